"""Who may do what in the points app. Scope (which subtree) is checked separately
with ``grids.permissions.require_in_scope``."""

from grids.choices import UserRole
from grids.permissions import STAFF_ROLES, is_active_user

PROPOSER_ROLES = STAFF_ROLES | {UserRole.GRID_WORKER}


def can_propose_award(user) -> bool:
    """Grid workers propose awards; staff may too."""
    return is_active_user(user) and (user.is_superuser or user.role in PROPOSER_ROLES)


def can_decide_award(user) -> bool:
    """Community (and street) staff approve or reject proposals."""
    return is_active_user(user) and (user.is_superuser or user.role in STAFF_ROLES)


def can_redeem(user) -> bool:
    """Staff at the points supermarket's counter hand out prizes."""
    return is_active_user(user) and (user.is_superuser or user.role in STAFF_ROLES)


def can_cancel_redemption(user) -> bool:
    return is_active_user(user) and (user.is_superuser or user.role in STAFF_ROLES)


def can_manage_prizes(user) -> bool:
    return is_active_user(user) and (user.is_superuser or user.role in STAFF_ROLES)


def can_manage_policy(user) -> bool:
    return is_active_user(user) and (user.is_superuser or user.role in STAFF_ROLES)


def can_export_ledger(user) -> bool:
    return is_active_user(user) and (
        user.is_superuser or user.role in STAFF_ROLES | {UserRole.SUPERVISOR}
    )
