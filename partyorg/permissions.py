"""Who may do what in the partyorg app: the role rules in one place.

Scope (which Region subtree) is checked with ``grids.permissions.require_in_scope``
by the services, after their locks. Members of the party often have no account:
staff record on their behalf, so the services take the ``actor`` (the account
that records) and the ``member`` (the PartyMember who acts) separately.
"""

from grids.choices import UserRole
from grids.permissions import (
    STAFF_ROLES,
    STREET_ROLES,
    WRITE_ROLES,
    has_role,
    is_active_user,
)

STREET = STREET_ROLES
STAFF = STAFF_ROLES
FIELD = frozenset({UserRole.COMMUNITY_STAFF, UserRole.GRID_WORKER})
ALL_WRITERS = WRITE_ROLES


def can_manage_orgs(user) -> bool:
    """Build and change the party tree: street staff (the 党工委's office)."""
    return has_role(user, STREET)


def can_manage_members(user) -> bool:
    """Keep the member list and registrations: street and community staff."""
    return has_role(user, STAFF)


def can_record_service(user) -> bool:
    """Log an in-service member's service: street and community staff (the
    service is given to the community, whose staff keep the log)."""
    return has_role(user, STAFF)


def can_post_wish(user) -> bool:
    """Post a resident's wish: grid workers and community staff (社区派单)."""
    return has_role(user, FIELD)


def can_record_claim(user) -> bool:
    """Record a claim, a release or a fulfilment for a member: staff, grid
    workers, and any account linked to a party member (acting for themselves)."""
    return has_role(user, ALL_WRITERS) or (
        is_active_user(user) and hasattr(user, "party_member")
    )


def can_confirm_wish(user) -> bool:
    """Confirm a fulfilment or refuse it: community (and street) staff."""
    return has_role(user, STAFF)


def can_close_wish(user) -> bool:
    """Withdraw (for the resident) or cancel a wish: staff and grid workers."""
    return has_role(user, ALL_WRITERS)
