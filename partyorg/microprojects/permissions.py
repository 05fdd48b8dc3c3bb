"""Who may do what with 民生微实事 on the pages (the services check again)."""

from grids.permissions import STAFF_ROLES, WRITE_ROLES, has_role


def can_propose(user) -> bool:
    """Record a resident's order or a topic's outcome: staff and grid workers."""
    return has_role(user, WRITE_ROLES)


def can_record_milestone(user) -> bool:
    return has_role(user, STAFF_ROLES)
