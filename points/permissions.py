"""Who may do what in the points app, in one place. Services call the
``require_*_action`` checks after locking the row; the admin calls
``available_*_actions`` to offer only the actions a user may take."""

from django.utils.translation import gettext as _

from grids.choices import UserRole
from grids.errors import Conflict
from grids.permissions import (
    STAFF_ROLES,
    WRITE_ROLES,
    can_keep_shared_lists,
    can_view,
    has_role,
    is_active_user,
    require,
    require_in_scope,
)

from .choices import (
    AWARD_TRANSITIONS,
    REDEMPTION_TRANSITIONS,
    AwardAction,
    AwardStatus,
    RedemptionAction,
    RedemptionStatus,
)

# 网格员提议: grid workers propose awards (staff may too).
PROPOSER_ROLES = WRITE_ROLES
# 社区审核: community staff (and the street above) decide.
APPROVER_ROLES = STAFF_ROLES


def in_scope(user, region) -> bool:
    return is_active_user(user) and region is not None and user.can_see_region(region)


def can_view_rankings(user, community) -> bool:
    """Signed-in users see the rankings of a community inside their area, or of
    the community their own grid lies in (a grid worker's)."""
    if not can_view(user) or community is None:
        return False
    if user.can_see_region(community):
        return True
    own = user.region.ancestor_of_level(community.level) if user.region_id else None
    return own is not None and own.pk == community.pk


def can_propose_award(user) -> bool:
    """Grid workers propose awards; staff may too."""
    return has_role(user, PROPOSER_ROLES)


def can_decide_award(user) -> bool:
    """Community (and street) staff approve or reject proposals."""
    return has_role(user, APPROVER_ROLES)


def can_redeem(user) -> bool:
    """Staff at the points supermarket's counter hand out prizes."""
    return has_role(user, STAFF_ROLES)


def can_cancel_redemption(user) -> bool:
    return has_role(user, STAFF_ROLES)


def can_manage_prizes(user) -> bool:
    return has_role(user, STAFF_ROLES)


def can_manage_policy(user) -> bool:
    return has_role(user, STAFF_ROLES)


def can_keep_rules(user) -> bool:
    """The rules catalogue (categories and items) is a shared list: street staff
    keep it, everyone reads it."""
    return can_keep_shared_lists(user)


def can_export_ledger(user) -> bool:
    return has_role(user, STAFF_ROLES | {UserRole.SUPERVISOR})


def award_region(award):
    return award.resident.household.region


def redemption_region(redemption):
    return redemption.account.household.region


def may_decide_award(user, award) -> bool:
    """社区审核: staff whose area holds the resident's household."""
    return can_decide_award(user) and in_scope(user, award_region(award))


def may_cancel_redemption(user, redemption) -> bool:
    return can_cancel_redemption(user) and in_scope(user, redemption_region(redemption))


# Which role rule allows each action at all (the admin offers an action by it),
# and which check guards it on one row (role and scope).
AWARD_ACTION_ROLES = {
    AwardAction.APPROVE: can_decide_award,
    AwardAction.REJECT: can_decide_award,
}
AWARD_ACTION_CHECKS = {
    AwardAction.APPROVE: may_decide_award,
    AwardAction.REJECT: may_decide_award,
}
REDEMPTION_ACTION_ROLES = {RedemptionAction.CANCEL: can_cancel_redemption}
REDEMPTION_ACTION_CHECKS = {RedemptionAction.CANCEL: may_cancel_redemption}


def _available(transitions, checks, user, obj) -> list[str]:
    return [
        action
        for action, check in checks.items()
        if obj.status in transitions[action][0] and check(user, obj)
    ]


def available_award_actions(user, award) -> list[str]:
    """The actions ``user`` may take on ``award`` now (and only those)."""
    return _available(AWARD_TRANSITIONS, AWARD_ACTION_CHECKS, user, award)


def available_redemption_actions(user, redemption) -> list[str]:
    return _available(
        REDEMPTION_TRANSITIONS, REDEMPTION_ACTION_CHECKS, user, redemption
    )


def award_actions_from(status) -> list[str]:
    """The actions the table allows from ``status`` (whoever takes them)."""
    return [a for a, (starts, _to) in AWARD_TRANSITIONS.items() if status in starts]


def require_award_action(user, award, action) -> None:
    """Refuse ``action`` on ``award`` (already locked, or None) with the right
    error: outside the area, wrong state, or a role that may not take it."""
    require_in_scope(user, award_region(award) if award else None)
    from_states, _to = AWARD_TRANSITIONS[action]
    if award.status not in from_states:
        raise Conflict(
            _("This proposal is already %(status)s.")
            % {"status": AwardStatus(award.status).label},
            code="wrong_status",
            extra={"status": award.status},
        )
    require(AWARD_ACTION_CHECKS[action](user, award))


def require_redemption_action(user, redemption, action) -> None:
    require_in_scope(user, redemption_region(redemption) if redemption else None)
    from_states, _to = REDEMPTION_TRANSITIONS[action]
    if redemption.status not in from_states:
        raise Conflict(
            _("This redemption is already %(status)s.")
            % {"status": RedemptionStatus(redemption.status).label},
            code="wrong_status",
            extra={"status": redemption.status},
        )
    require(REDEMPTION_ACTION_CHECKS[action](user, redemption))
