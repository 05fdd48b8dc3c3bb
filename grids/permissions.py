"""Who may do what in the grids app: one place for the role rules.

Scope (which Region subtree) is checked separately by ``require_in_scope``;
these functions say which roles may take an action at all.
"""

from django.utils.translation import gettext as _

from .choices import UserRole
from .errors import NotAllowed, OutOfScope

STREET_ROLES = frozenset({UserRole.STREET_STAFF})
STAFF_ROLES = frozenset({UserRole.STREET_STAFF, UserRole.COMMUNITY_STAFF})
WRITE_ROLES = STAFF_ROLES | {UserRole.GRID_WORKER}


def is_active_user(user) -> bool:
    """A logged-in, active account (every app's role rules start from this)."""
    return user is not None and user.is_authenticated and user.is_active


_active = is_active_user


def has_role(user, roles) -> bool:
    """An active account with one of ``roles``, or an administrator: the first
    line of every app's role rules."""
    return is_active_user(user) and (user.is_superuser or user.role in roles)


def can_view(user) -> bool:
    return _active(user) and (user.is_superuser or bool(user.role and user.region_id))


def is_area_staff(user) -> bool:
    """Street or community staff: who keeps most records of an area."""
    return has_role(user, STAFF_ROLES)


def can_manage_hierarchy(user) -> bool:
    """Create, rename and move Region nodes and keep the roster: street staff."""
    return has_role(user, STREET_ROLES)


def can_keep_shared_lists(user) -> bool:
    """Province-wide lists (ticket categories, the work calendar, the points rules,
    special-group tags) are kept by street staff; everyone else reads them."""
    return has_role(user, STREET_ROLES)


# Roles a street's staff may give to accounts in their street; supervisors and
# administrators are made by an administrator.
ROLES_STREET_STAFF_MAY_GRANT = frozenset(
    {UserRole.STREET_STAFF, UserRole.COMMUNITY_STAFF, UserRole.GRID_WORKER}
)


def can_manage_accounts(user) -> bool:
    """Street staff open and close the accounts of their street's people."""
    return has_role(user, STREET_ROLES)


def roles_grantable_by(user) -> frozenset:
    if user.is_superuser:
        return frozenset(UserRole.values)
    if can_manage_accounts(user):
        return ROLES_STREET_STAFF_MAY_GRANT
    return frozenset()


def can_manage_roster(user) -> bool:
    return has_role(user, STAFF_ROLES)


def can_manage_households(user) -> bool:
    """Households and residents: street and community staff, and grid workers."""
    return has_role(user, WRITE_ROLES)


# Personal data (ID-card number, phone) is shown masked to everyone. Street and
# community staff, who keep the households of their area, may show one
# resident's whole value (with a reason, logged) and export unmasked (with a
# reason, logged); grid workers and supervisors may not. Street staff read the
# access log of their street.
PERSONAL_DATA_REVEAL_ROLES = STAFF_ROLES


def can_reveal_personal_data(user) -> bool:
    """Show a whole ID number or phone, or export them unmasked."""
    return has_role(user, PERSONAL_DATA_REVEAL_ROLES)


def can_read_personal_data_log(user) -> bool:
    """Browse and export the access log of personal data (their subtree)."""
    return has_role(user, STREET_ROLES)


def can_record_patrol(user) -> bool:
    return has_role(user, WRITE_ROLES)


def can_see_resident_names(user) -> bool:
    """Who keeps and visits households (staff and grid workers) sees residents'
    names; supervisors, who only read, see them masked (张*丰)."""
    return has_role(user, WRITE_ROLES)


def require(allowed: bool, message=None) -> None:
    if not allowed:
        raise NotAllowed(message or _("Your role does not allow this action."))


def require_in_scope(user, region) -> None:
    """Refuse a region outside the user's subtree as if it did not exist."""
    if region is None or not _active(user) or not user.can_see_region(region):
        raise OutOfScope(_("This object does not exist or lies outside your area."))
