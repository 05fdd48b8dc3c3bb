"""Who may do what in community deliberation: the role rules in one place.

Scope (the Region subtree) is checked by the services after their locks with
``grids.permissions.require_in_scope``; supervisors read and never write.
"""

from grids.permissions import STAFF_ROLES, WRITE_ROLES, has_role, is_active_user


def can_keep_councils(user) -> bool:
    """Councils, their members and the community's kind: street and community
    staff (the community's party organisation keeps the lists)."""
    return has_role(user, STAFF_ROLES)


def can_raise_topic(user) -> bool:
    """Raise a topic (for a resident, for themselves, a branch or a council):
    staff and grid workers."""
    return has_role(user, WRITE_ROLES)


def can_screen_topic(user) -> bool:
    """五议五不议: community (and street) staff decide."""
    return has_role(user, STAFF_ROLES)


def can_record_step(user) -> bool:
    """Record a step of a topic: staff and grid workers (collecting, research
    and supervising execution are field work)."""
    return has_role(user, WRITE_ROLES)


def can_run_vote(user) -> bool:
    """Open a vote item, record a paper ballot, count: staff."""
    return has_role(user, STAFF_ROLES)


def may_cast(user, ballot) -> bool:
    """The member's own account, or staff recording a paper ballot."""
    if not is_active_user(user):
        return False
    return ballot.member.user_id == user.pk or can_run_vote(user)
