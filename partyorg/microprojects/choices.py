"""民生微实事 (seed 004: residents order, the community dispatches, the
government pays): the states of a micro-project and the one table of its steps."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProjectState(models.TextChoices):
    # 已提出: a resident's order (群众点单) or a topic's outcome, recorded by staff.
    PROPOSED = "proposed", _("Proposed")
    # 已筛选: the community screened it as a fitting micro-project.
    SCREENED = "screened", _("Screened")
    # 已立项: the street approved its budget (政府买单).
    APPROVED = "approved", _("Approved")
    # 实施中: work has started; milestones with photos are recorded.
    IN_PROGRESS = "in_progress", _("In progress")
    # 已验收: accepted, with the money spent; the public result. Final.
    ACCEPTED = "accepted", _("Accepted")
    # 未通过: refused at screening or approval, with the reason. Final.
    REJECTED = "rejected", _("Rejected")


class ProjectAction(models.TextChoices):
    PROPOSE = "propose", _("proposed")
    SCREEN = "screen", _("screened")
    APPROVE = "approve", _("approved")
    START = "start", _("started")
    ACCEPT = "accept", _("accepted")
    REJECT = "reject", _("rejected")


# Each step: the states it starts from and the state it leads to.
PROJECT_TRANSITIONS = {
    ProjectAction.SCREEN: ({ProjectState.PROPOSED}, ProjectState.SCREENED),
    ProjectAction.APPROVE: ({ProjectState.SCREENED}, ProjectState.APPROVED),
    ProjectAction.START: ({ProjectState.APPROVED}, ProjectState.IN_PROGRESS),
    ProjectAction.ACCEPT: ({ProjectState.IN_PROGRESS}, ProjectState.ACCEPTED),
    ProjectAction.REJECT: (
        {ProjectState.PROPOSED, ProjectState.SCREENED},
        ProjectState.REJECTED,
    ),
}
