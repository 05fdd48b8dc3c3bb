"""Who may do what in the partyorg app: the role rules in one place.

Scope (which Region subtree) is checked with ``grids.permissions.require_in_scope``
by the services, after their locks. The steps of a wish are checked by
``require_wish_action``, one table (``WISH_ACTION_CHECKS``) over the lifecycle
in ``choices.WISH_TRANSITIONS``. Members of the party often have no account:
staff record on their behalf, so the services take the ``actor`` (the account
that records) and the ``member`` (the PartyMember who acts) separately.
"""

from django.utils.translation import gettext as _

from grids.choices import UserRole
from grids.errors import Conflict, NotAllowed
from grids.permissions import (
    STAFF_ROLES,
    STREET_ROLES,
    WRITE_ROLES,
    has_role,
    is_active_user,
    require,
    require_in_scope,
)

from .choices import WISH_TRANSITIONS, WishAction, WishState

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


# --- Micro-wishes: who may take each step (the steps are choices.WISH_TRANSITIONS)


def linked_member(user):
    """The party member this account is linked to (``PartyMember.user``), or None."""
    from .models import PartyMember

    if not is_active_user(user):
        return None
    return PartyMember.objects.filter(user_id=user.pk).first()


def is_member_account(user) -> bool:
    """An account acting as a party member, not as staff or grid worker."""
    return not user.is_superuser and user.role not in ALL_WRITERS


def may_claim(user, wish) -> bool:
    """党员接单: recorded by staff or a grid worker, or taken by a member's own
    account (for itself; the service checks the member named)."""
    return can_record_claim(user)


def may_act_on_claim(user, wish) -> bool:
    """Release or fulfil a claim: staff and grid workers recording for the
    member, or the account of the member who claimed it."""
    if has_role(user, ALL_WRITERS):
        return True
    member = linked_member(user)
    return member is not None and wish.claimed_by_id == member.pk


def may_confirm(user, wish) -> bool:
    """Confirm a fulfilment with the resident, refuse it, or cancel the wish:
    community (and street) staff."""
    return can_confirm_wish(user)


def may_withdraw(user, wish) -> bool:
    """Record that the resident withdrew the wish: staff and grid workers."""
    return can_close_wish(user)


# Which check guards each step of a wish, in the order a page offers them.
WISH_ACTION_CHECKS = {
    WishAction.CLAIM: may_claim,
    WishAction.RELEASE: may_act_on_claim,
    WishAction.FULFIL: may_act_on_claim,
    WishAction.CONFIRM: may_confirm,
    WishAction.REJECT: may_confirm,
    WishAction.WITHDRAW: may_withdraw,
    WishAction.CANCEL: may_confirm,
}


def available_wish_actions(user, wish) -> list[str]:
    """The steps ``user`` may take on ``wish`` now (and only those)."""
    return [
        action
        for action, check in WISH_ACTION_CHECKS.items()
        if wish.state in WISH_TRANSITIONS[action][0] and check(user, wish)
    ]


def wrong_state(wish, action) -> Conflict:
    """The refusal of ``action`` on a wish in a state it does not start from. A
    claim on a claimed wish is a lost race: somebody else was quicker."""
    if action == WishAction.CLAIM and wish.state == WishState.CLAIMED:
        return Conflict(
            _("Someone else has just claimed this wish."), code="already_claimed"
        )
    return Conflict(
        _("A %(from)s wish cannot become %(to)s.")
        % {
            "from": WishState(wish.state).label,
            "to": WishState(WISH_TRANSITIONS[action][1]).label,
        },
        code="illegal_transition",
        extra={"state": wish.state},
    )


def require_wish_action(user, wish, action) -> None:
    """Refuse ``action`` on ``wish`` (already locked, or None when it does not
    exist) with the right error: out of scope, then the actor's right (which
    does not depend on the state, so a role that may never take the step hears
    so whatever the state), then the state."""
    require_in_scope(user, wish.region if wish is not None else None)
    if not WISH_ACTION_CHECKS[action](user, wish):
        if action in (WishAction.RELEASE, WishAction.FULFIL) and is_member_account(
            user
        ):
            raise NotAllowed(_("Only the member who claimed this wish may do this."))
        require(False)
    if wish.state not in WISH_TRANSITIONS[action][0]:
        raise wrong_state(wish, action)
