"""Reads of tickets, scoped to the actor: the list with its filters, the detail
with its timeline, and counts."""

from django.db.models import QuerySet
from django.utils import timezone

from grids.permissions import require_in_scope

from .choices import ESCALATING_STAGES, Verdict
from .models import Ticket, TicketEvent


def ticket_list(*, actor, filters=None) -> QuerySet:
    """Tickets the actor may see, narrowed by ``filters`` (the parameters of
    ``filters.TicketFilterSet``: stage, source, category and region subtrees,
    overdue, escalated, verdict, mine, due today, text search…; a dict of
    Python values or a QueryDict). A malformed value gives an empty list."""
    from .filters import filter_tickets

    qs = filter_tickets(actor=actor, filters=filters)
    return qs.select_related(
        "category", "region", "handling_region", "handling_department", "handler"
    ).order_by("-received_at", "-pk")


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
