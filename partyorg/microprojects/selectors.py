"""Reads of 民生微实事, scoped by the actor's area."""

from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractYear

from .choices import ProjectState
from .models import MicroProject


def micro_project_list(*, actor):
    return MicroProject.objects.visible_to(actor).select_related("community")


def micro_project_totals(*, actor) -> list[dict]:
    """Per community and year of proposal: projects, accepted ones, the budget
    approved and the money spent (accepted projects)."""
    return list(
        micro_project_list(actor=actor)
        .annotate(year=ExtractYear("created_at"))
        .values("community_id", "community__name", "year")
        .annotate(
            projects=Count("id"),
            accepted=Count("id", filter=Q(state=ProjectState.ACCEPTED)),
            budget=Sum("budget"),
            spent=Sum("spent", filter=Q(state=ProjectState.ACCEPTED)),
        )
        .order_by("year", "community__name")
    )
