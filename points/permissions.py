"""Who may do what in the points app. Scope (which subtree) is checked separately
with ``grids.permissions.require_in_scope``."""

from grids.choices import UserRole
from grids.permissions import STAFF_ROLES, WRITE_ROLES, has_role

PROPOSER_ROLES = WRITE_ROLES


def can_propose_award(user) -> bool:
    """Grid workers propose awards; staff may too."""
    return has_role(user, PROPOSER_ROLES)


def can_decide_award(user) -> bool:
    """Community (and street) staff approve or reject proposals."""
    return has_role(user, STAFF_ROLES)


def can_redeem(user) -> bool:
    """Staff at the points supermarket's counter hand out prizes."""
    return has_role(user, STAFF_ROLES)


def can_cancel_redemption(user) -> bool:
    return has_role(user, STAFF_ROLES)


def can_manage_prizes(user) -> bool:
    return has_role(user, STAFF_ROLES)


def can_manage_policy(user) -> bool:
    return has_role(user, STAFF_ROLES)


def can_export_ledger(user) -> bool:
    return has_role(user, STAFF_ROLES | {UserRole.SUPERVISOR})
