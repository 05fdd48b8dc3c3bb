"""Reads of 民生微实事, scoped by the actor's area."""

from django.db.models import Count, Prefetch, Q, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone

from grids.querysets import ancestors_or_self_q

from ..deliberation.selectors import mask_text
from .choices import ProjectState
from .models import MicroProject, MicroProjectMilestone


def micro_project_list(*, actor):
    """The projects of the actor's area; a grid worker (whose area lies inside
    a community) sees the projects of their community, which they propose."""
    projects = MicroProject.objects.visible_to(actor)
    region = getattr(actor, "scope_region", None)
    if region is not None and not actor.is_superuser and actor.is_active:
        # A project's community is a community: only a place inside one adds it.
        projects = projects | MicroProject.objects.filter(
            ancestors_or_self_q(region, "community")
        )
    return projects.select_related("community")


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


def micro_project_detail(*, actor, project_id: int) -> MicroProject | None:
    """The project if it lies in the actor's area, else None (the page: 404)."""
    return (
        micro_project_list(actor=actor)
        .select_related("topic")
        .prefetch_related(
            Prefetch(
                "milestones",
                queryset=MicroProjectMilestone.objects.select_related("recorded_by"),
            )
        )
        .filter(pk=project_id)
        .first()
    )


def public_micro_projects(*, community) -> dict:
    """The community's 民生微实事 notice (公开): every project with its state,
    budget, money spent, milestones and result, newest first, and the totals
    per year. Free text is masked (ID-card and mobile numbers), the proposer's
    name too; nobody who recorded a step is named. Two queries."""
    projects = list(
        MicroProject.objects.filter(community=community)
        .prefetch_related(
            Prefetch(
                "milestones",
                queryset=MicroProjectMilestone.objects.order_by("recorded_at", "pk"),
                to_attr="public_milestones",
            )
        )
        .order_by("-created_at", "-pk")[:200]
    )
    years: dict[int, dict] = {}
    for project in projects:

        def public(text, project=project):
            # The resident who ordered it is masked wherever the text names them.
            text = mask_text(text)
            if project.proposed_by_name:
                text = text.replace(project.proposed_by_name, project.masked_proposer)
            return text

        project.public_description = public(project.description)
        project.public_result = public(project.result)
        project.public_reason = public(project.reject_reason)
        for milestone in project.public_milestones:
            milestone.public_note = public(milestone.note)
        number = timezone.localtime(project.created_at).year
        year = years.setdefault(
            number, {"year": number, "projects": 0, "accepted": 0, "spent": 0}
        )
        year["projects"] += 1
        if project.state == ProjectState.ACCEPTED:
            year["accepted"] += 1
            year["spent"] += project.spent or 0
    return {
        "projects": projects,
        "years": sorted(years.values(), key=lambda y: -y["year"]),
    }
