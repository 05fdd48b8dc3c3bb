"""Who may do what with the grid ratings, in one place. Everyone with a scope
reads the ratings of their subtree (supervisors included, read-only)."""

from grids.choices import UserRole
from grids.permissions import can_view, has_role

# 评比细则, 发布 and deciding appeals belong to the street (or district) staff.
RULE_ROLES = frozenset({UserRole.STREET_STAFF})
# 申诉: a community's staff appeal a class of one of their grids.
APPEAL_ROLES = frozenset({UserRole.COMMUNITY_STAFF})


def can_see_ratings(user) -> bool:
    return can_view(user)


def can_keep_rules(user) -> bool:
    return has_role(user, RULE_ROLES)


def can_publish(user) -> bool:
    """Publish a month, re-run it and decide appeals: street staff."""
    return has_role(user, RULE_ROLES)


def can_appeal(user) -> bool:
    return has_role(user, APPEAL_ROLES)


# The dashboard (issue 12): supervisors read it; street and community staff
# read their subtree's; grid workers have their phone app instead.
DASHBOARD_ROLES = frozenset(
    {UserRole.SUPERVISOR, UserRole.STREET_STAFF, UserRole.COMMUNITY_STAFF}
)


def can_see_dashboard(user) -> bool:
    return has_role(user, DASHBOARD_ROLES) and (
        user.is_superuser or bool(user.region_id)
    )
