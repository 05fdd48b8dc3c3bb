"""民生微实事 micro-projects (seed 004), their milestones and their event log."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from grids.masking import mask_name
from grids.querysets import ScopedQuerySet

from .choices import ProjectAction, ProjectState


class MicroProjectQuerySet(ScopedQuerySet):
    scope_path = "community"


class MicroProject(models.Model):
    community = models.ForeignKey(
        "grids.Region",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="micro_projects",
    )
    title = models.CharField(_("project"), max_length=200)
    description = models.TextField(_("description"))
    # A resident's order, named as told (masked on display), or a topic's
    # published outcome (PROTECT: the topic is the project's public origin).
    proposed_by_name = models.CharField(_("proposed by"), max_length=50, blank=True)
    topic = models.ForeignKey(
        "partyorg.Topic",
        verbose_name=_("topic"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="micro_projects",
    )
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=ProjectState.choices,
        default=ProjectState.PROPOSED,
    )
    budget = models.DecimalField(
        _("budget (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    spent = models.DecimalField(
        _("money spent (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    reject_reason = models.TextField(_("reason refused"), blank=True)
    result = models.TextField(pgettext_lazy("micro-project", "result"), blank=True)
    created_at = models.DateTimeField(_("proposed at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    objects = MicroProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("micro-project (民生微实事)")
        verbose_name_plural = _("micro-projects (民生微实事)")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gt=0),
                name="microproject_budget_positive",
            ),
            models.CheckConstraint(
                condition=Q(spent__isnull=True)
                | (Q(spent__gte=0) & Q(spent__lte=models.F("budget"))),
                name="microproject_spent_within_budget",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["approved", "in_progress", "accepted"])
                | Q(budget__isnull=False),
                name="microproject_approved_has_budget",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def masked_proposer(self) -> str:
        return mask_name(self.proposed_by_name) if self.proposed_by_name else ""


class MicroProjectMilestone(models.Model):
    project = models.ForeignKey(
        MicroProject,
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        related_name="milestones",
    )
    note = models.TextField(_("progress"))
    photo = models.ImageField(_("photo"), upload_to="projects/%Y/%m/", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["recorded_at", "id"]

    def __str__(self):
        return f"{self.project} · {self.recorded_at:%Y-%m-%d}"


class MicroProjectEvent(models.Model):
    project = models.ForeignKey(
        MicroProject,
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    action = models.CharField(_("action"), max_length=16, choices=ProjectAction.choices)
    from_state = models.CharField(
        _("from"), max_length=16, choices=ProjectState.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=16, choices=ProjectState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("micro-project event")
        verbose_name_plural = _("micro-project events")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.project} · {self.get_action_display()}"
