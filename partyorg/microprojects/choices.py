"""民生微实事 (seed 004: residents order, the community dispatches, the
government pays): the states of a micro-project and the one table of its steps."""

from django.db import models
from django.utils.translation import pgettext_lazy


class ProjectState(models.TextChoices):
    # 已提出: a resident's order (群众点单) or a topic's outcome, recorded by staff.
    PROPOSED = "proposed", pgettext_lazy("micro-project", "Proposed")
    # 已筛选: the community screened it as a fitting micro-project.
    SCREENED = "screened", pgettext_lazy("micro-project", "Screened")
    # 已立项: the street approved its budget (政府买单).
    APPROVED = "approved", pgettext_lazy("micro-project", "Approved")
    # 实施中: work has started; milestones with photos are recorded.
    IN_PROGRESS = "in_progress", pgettext_lazy("micro-project", "In progress")
    # 已验收: accepted, with the money spent; the public result. Final.
    ACCEPTED = "accepted", pgettext_lazy("micro-project", "Accepted")
    # 未通过: refused at screening or approval, with the reason. Final.
    REJECTED = "rejected", pgettext_lazy("micro-project", "Rejected")


class ProjectAction(models.TextChoices):
    PROPOSE = "propose", pgettext_lazy("micro-project", "proposed")
    SCREEN = "screen", pgettext_lazy("micro-project", "screened")
    APPROVE = "approve", pgettext_lazy("micro-project", "approved")
    START = "start", pgettext_lazy("micro-project", "started")
    ACCEPT = "accept", pgettext_lazy("micro-project", "accepted")
    REJECT = "reject", pgettext_lazy("micro-project", "rejected")


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
