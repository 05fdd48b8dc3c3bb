"""Who may do what with a ticket, in one place. Services call these after
locking the ticket; pages call them to show only the actions a user may take."""

from django.utils.translation import gettext as _

from grids.choices import UserRole
from grids.permissions import (
    STAFF_ROLES,
    STREET_ROLES,
    WRITE_ROLES,
    has_role,
    is_active_user,
    require,
    require_in_scope,
)

from .choices import TRANSITIONS, Action, Stage

INTAKE_ROLES = WRITE_ROLES
CENTRE_ROLES = STREET_ROLES  # 街道/镇综治中心: 制单, 合并
UNIT_ROLES = STAFF_ROLES  # 社区 / 街道
HANDLER_ROLES = WRITE_ROLES
EVALUATION_RECORDER_ROLES = STAFF_ROLES
# 考单 is the governance centre's: street staff and supervisors (综治中心).
ASSESSOR_ROLES = {UserRole.STREET_STAFF, UserRole.SUPERVISOR}
# 责任领导 (分管领导 / 包村负责人): who may be named the responsible leader at
# 制单 and then dispatches (派单, seed 004): street or community staff.
LEADER_ROLES = frozenset({UserRole.STREET_STAFF, UserRole.COMMUNITY_STAFF})


def in_scope(user, region) -> bool:
    return is_active_user(user) and region is not None and user.can_see_region(region)


def can_manage_departments(user) -> bool:
    """The list of departments is kept by the street centre."""
    return has_role(user, CENTRE_ROLES)


def can_create(user) -> bool:
    return has_role(user, INTAKE_ROLES)


def can_triage(user, ticket) -> bool:
    return has_role(user, CENTRE_ROLES) and in_scope(user, ticket.region)


def may_lead(actor, leader, region=None) -> bool:
    """``leader`` may be named responsible leader by ``actor``: an active street
    or community staff account working inside the actor's area and, given the
    ticket's place ``region``, whose own area holds that place (so the leader
    can see and dispatch the ticket)."""
    return (
        is_active_user(leader)
        and leader.role in LEADER_ROLES
        and in_scope(actor, leader.region)
        and (region is None or in_scope(leader, region))
    )


def leader_choices(actor, region=None):
    """The accounts ``may_lead`` allows, as one query (for forms)."""
    from django.contrib.auth import get_user_model

    from grids.querysets import ancestors_or_self_q, scope_q

    qs = (
        get_user_model()
        .objects.filter(is_active=True, role__in=LEADER_ROLES)
        .filter(scope_q(actor, "region"))
    )
    if region is not None:
        qs = qs.filter(ancestors_or_self_q(region, "region"))
    return qs


def can_lead(user) -> bool:
    """The user may be a responsible leader (has a 待我派单 queue)."""
    return has_role(user, LEADER_ROLES)


def is_responsible_leader(user, ticket) -> bool:
    """派单 is the named responsible leader's (or an administrator's)."""
    if not is_active_user(user):
        return False
    if user.is_superuser:
        return True
    return (
        ticket.responsible_leader_id == user.pk
        and user.role in LEADER_ROLES
        and in_scope(user, ticket.region)
    )


def department_serves(department, region) -> bool:
    """A department takes tickets placed in its region's subtree; a department
    without a region (shared, e.g. district-wide) takes any."""
    return department.region_id is None or (
        region is not None and department.region.contains(region)
    )


def is_department_member(user, department) -> bool:
    return (
        is_active_user(user)
        and department is not None
        and department.members.filter(pk=user.pk).exists()
    )


def is_handling_unit(user, ticket) -> bool:
    """The user speaks for the unit the ticket was dispatched to."""
    if not is_active_user(user):
        return False
    if user.is_superuser:
        return True
    if ticket.handling_department_id:
        return is_department_member(user, ticket.handling_department)
    return has_role(user, UNIT_ROLES) and in_scope(user, ticket.handling_region)


def is_handler(user, ticket) -> bool:
    return is_active_user(user) and (user.is_superuser or ticket.handler_id == user.pk)


def can_record_verdict(user, ticket) -> bool:
    return has_role(user, EVALUATION_RECORDER_ROLES) and in_scope(user, ticket.region)


def can_assess(user, ticket) -> bool:
    return has_role(user, ASSESSOR_ROLES) and in_scope(user, ticket.region)


def can_see(user, ticket) -> bool:
    if not is_active_user(user):
        return False
    return (
        user.is_superuser
        or in_scope(user, ticket.region)
        or in_scope(user, ticket.handling_region)
        or ticket.handler_id == user.pk
        or is_department_member(user, ticket.handling_department)
    )


# Which check guards each action a staff user takes on an existing ticket.
ACTION_CHECKS = {
    Action.TRIAGE: can_triage,
    Action.DISPATCH: is_responsible_leader,
    Action.MERGE: can_triage,
    Action.ACCEPT: is_handling_unit,
    Action.RETURN: is_handling_unit,
    Action.HANDLE: is_handler,
    Action.REPORT_UP: is_handler,
    Action.EVALUATE: can_record_verdict,
    Action.ASSESS: can_assess,
}


def available_actions(user, ticket) -> list[str]:
    """The actions ``user`` may take on ``ticket`` now (and only those)."""
    out = []
    for action, check in ACTION_CHECKS.items():
        from_stages, _to = TRANSITIONS[action]
        if ticket.stage in from_stages and check(user, ticket):
            out.append(action)
    return out


def require_action(user, ticket, action) -> None:
    """Refuse ``action`` on ``ticket`` (already locked) with the right error."""
    from grids.errors import Conflict

    if not can_see(user, ticket):
        require_in_scope(user, None)
    from_stages, _to = TRANSITIONS[action]
    if ticket.stage not in from_stages:
        raise Conflict(
            _("This ticket is %(stage)s; it cannot be %(action)s now.")
            % {
                "stage": Stage(ticket.stage).label,
                "action": Action(action).label.lower(),
            },
            code="wrong_stage",
            extra={"stage": ticket.stage},
        )
    if not ACTION_CHECKS[action](user, ticket):
        require(False)


def can_manage_open311_clients(user) -> bool:
    """Open311 client keys (civic apps posting reports) are issued and revoked by
    the street centre, for its own area."""
    return has_role(user, CENTRE_ROLES)
