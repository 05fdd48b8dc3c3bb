"""Reads of tickets, scoped to the actor: the list with its filters, the detail
with its timeline, and counts."""

from django.db.models import QuerySet
from django.utils import timezone

from grids.models import Region
from grids.permissions import require_in_scope

from .choices import ESCALATING_STAGES, Verdict
from .models import Ticket, TicketEvent


def ticket_list(*, actor, filters: dict | None = None) -> QuerySet:
    """Tickets the actor may see. ``filters``: stage, source, category (id, with
    its subcategories), region (id: that subtree), overdue, escalated, verdict."""
    filters = filters or {}
    qs = Ticket.objects.visible_to(actor).select_related(
        "category", "region", "handling_region", "handling_department", "handler"
    )
    if filters.get("stage"):
        qs = qs.filter(stage=filters["stage"])
    if filters.get("source"):
        qs = qs.filter(source=filters["source"])
    if filters.get("category"):
        from .models import Category

        category = Category.objects.filter(pk=filters["category"]).first()
        if category is not None:
            qs = qs.filter(
                category__in=category.get_descendants(include_self=True).values("pk")
            )
    if filters.get("region"):
        region = Region.objects.visible_to(actor).filter(pk=filters["region"]).first()
        qs = qs.in_subtree(region) if region is not None else qs.none()
    if filters.get("overdue"):
        qs = qs.overdue()
    if filters.get("escalated"):
        qs = qs.filter(escalation_level__gt=0)
    if filters.get("verdict"):
        qs = qs.filter(verdict=filters["verdict"])
    return qs.order_by("-received_at", "-pk")


def ticket_detail(*, actor, ticket_id: int) -> Ticket:
    ticket = ticket_list(actor=actor).filter(pk=ticket_id).first()
    if ticket is None:
        require_in_scope(actor, None)
    return ticket


def ticket_timeline(*, ticket: Ticket) -> list[TicketEvent]:
    """The ticket's events, oldest first, with actors and photos (three queries)."""
    return list(
        TicketEvent.objects.filter(ticket=ticket)
        .select_related("actor")
        .prefetch_related("photos")
        .order_by("at", "pk")
    )


def time_left(ticket: Ticket, now=None):
    """(timedelta left on the current stage, overdue?) or (None, False)."""
    if ticket.stage_deadline is None:
        return None, False
    left = ticket.stage_deadline - (now or timezone.now())
    return left, left.total_seconds() < 0 and ticket.stage in ESCALATING_STAGES


def verdict_counts(*, actor) -> dict:
    """Verdicts in scope, 未评价 counted apart from the resident verdicts."""
    from django.db.models import Count

    counts = dict(
        Ticket.objects.visible_to(actor)
        .exclude(verdict="")
        .values_list("verdict")
        .annotate(n=Count("pk"))
        .values_list("verdict", "n")
    )
    return {v: counts.get(v, 0) for v in Verdict.values}
