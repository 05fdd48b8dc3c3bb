"""Who may do what with 民生微实事: the pages ask here, and the services check
the same rules again (``can_take_step``) under their row lock."""

from grids.permissions import STAFF_ROLES, STREET_ROLES, WRITE_ROLES, has_role

from .choices import PROJECT_TRANSITIONS, ProjectAction

# Who may take each step: the community screens and runs the work; the street
# (the government, which pays: 政府买单) approves the budget and accepts.
STEP_ROLES = {
    ProjectAction.SCREEN: STAFF_ROLES,
    ProjectAction.REJECT: STAFF_ROLES,
    ProjectAction.APPROVE: STREET_ROLES,
    ProjectAction.START: STAFF_ROLES,
    ProjectAction.ACCEPT: STREET_ROLES,
}


def can_propose(user) -> bool:
    """Record a resident's order or a topic's outcome: staff and grid workers."""
    return has_role(user, WRITE_ROLES)


def can_record_milestone(user) -> bool:
    return has_role(user, STAFF_ROLES)


def can_take_step(user, action) -> bool:
    """The user's role allows the step (any state; scope is the caller's)."""
    return action in STEP_ROLES and has_role(user, STEP_ROLES[action])


def micro_project_steps_for(actor, project) -> list[ProjectAction]:
    """The steps ``actor`` may take on ``project`` now: its state allows them
    and the actor's role does (the project is one of the actor's area)."""
    return [
        action
        for action, (from_states, _to) in PROJECT_TRANSITIONS.items()
        if project.state in from_states and can_take_step(actor, action)
    ]
