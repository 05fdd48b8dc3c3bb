"""Who may do what in the points app. Scope (which subtree) is checked separately
with ``grids.permissions.require_in_scope``."""

from grids.choices import UserRole
from grids.permissions import STAFF_ROLES

PROPOSER_ROLES = STAFF_ROLES | {UserRole.GRID_WORKER}


def _active(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def can_propose_award(user) -> bool:
    """Grid workers propose awards; staff may too."""
    return _active(user) and (user.is_superuser or user.role in PROPOSER_ROLES)


def can_decide_award(user) -> bool:
    """Community (and street) staff approve or reject proposals."""
    return _active(user) and (user.is_superuser or user.role in STAFF_ROLES)


def can_redeem(user) -> bool:
    """Staff at the points supermarket's counter hand out prizes."""
    return _active(user) and (user.is_superuser or user.role in STAFF_ROLES)


def can_cancel_redemption(user) -> bool:
    return _active(user) and (user.is_superuser or user.role in STAFF_ROLES)


def can_manage_prizes(user) -> bool:
    return _active(user) and (user.is_superuser or user.role in STAFF_ROLES)


def can_manage_policy(user) -> bool:
    return _active(user) and (user.is_superuser or user.role in STAFF_ROLES)


def can_manage_rules(user) -> bool:
    """The rules catalogue is shared by every community: street staff keep it."""
    return _active(user) and (user.is_superuser or user.role == UserRole.STREET_STAFF)


def can_export_ledger(user) -> bool:
    return _active(user) and (
        user.is_superuser or user.role in STAFF_ROLES | {UserRole.SUPERVISOR}
    )
