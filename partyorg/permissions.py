"""Who may do what in the partyorg app: the role rules in one place.

Scope (which Region subtree) is checked with ``grids.permissions.require_in_scope``
by the services, after their locks. Members of the party often have no account:
staff record on their behalf, so the services take the ``actor`` (the account
that records) and the ``member`` (the PartyMember who acts) separately.
"""

from grids.choices import UserRole
from grids.permissions import is_active_user

STREET = {UserRole.STREET_STAFF}
STAFF = {UserRole.STREET_STAFF, UserRole.COMMUNITY_STAFF}
FIELD = {UserRole.COMMUNITY_STAFF, UserRole.GRID_WORKER}
ALL_WRITERS = STAFF | {UserRole.GRID_WORKER}


def _role_in(user, roles) -> bool:
    return is_active_user(user) and (user.is_superuser or user.role in roles)


def can_manage_orgs(user) -> bool:
    """Build and change the party tree: street staff (the 党工委's office)."""
    return _role_in(user, STREET)


def can_manage_members(user) -> bool:
    """Keep the member list and registrations: street and community staff."""
    return _role_in(user, STAFF)


def can_record_service(user) -> bool:
    """Log an in-service member's service: street and community staff (the
    service is given to the community, whose staff keep the log)."""
    return _role_in(user, STAFF)


def can_post_wish(user) -> bool:
    """Post a resident's wish: grid workers and community staff (社区派单)."""
    return _role_in(user, FIELD)


def can_record_claim(user) -> bool:
    """Record a claim, a release or a fulfilment for a member: staff, grid
    workers, and any account linked to a party member (acting for themselves)."""
    return _role_in(user, ALL_WRITERS) or (
        is_active_user(user) and hasattr(user, "party_member")
    )


def can_confirm_wish(user) -> bool:
    """Confirm a fulfilment or refuse it: community (and street) staff."""
    return _role_in(user, STAFF)


def can_close_wish(user) -> bool:
    """Withdraw (for the resident) or cancel a wish: staff and grid workers."""
    return _role_in(user, ALL_WRITERS)
