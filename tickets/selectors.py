"""Reads of tickets, scoped to the actor: the list with its filters, the detail
with its timeline, the evaluation link panel, and counts."""

import datetime as dt

from django.conf import settings
from django.db.models import DateTimeField, ExpressionWrapper, F, QuerySet, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from grids.choices import RegionLevel
from grids.masking import mask_phone
from grids.permissions import require_in_scope
from grids.qr import qr_svg
from grids.validators import is_mobile_phone

from . import permissions
from .choices import ESCALATING_STAGES, TRANSITIONS, Action, Verdict
from .models import Ticket, TicketEvent
from .pagination import COUNT_CAP, CappedCount, capped_count
from .services.evaluation import evaluation_url, last_link_sending


def ticket_list(*, actor, filters=None) -> QuerySet:
    """Tickets the actor may see, narrowed by ``filters`` (the parameters of
    ``filters.TicketFilterSet``: stage, source, category and region subtrees,
    overdue, escalated, verdict, mine, due today, text search…; a dict of
    Python values or a QueryDict), newest first (``newest_first``). A malformed
    value gives an empty list."""
    from .filters import filter_tickets

    qs = filter_tickets(actor=actor, filters=filters)
    return qs.select_related(
        "category", "region", "handling_region", "handling_department", "handler"
    ).order_by(*newest_first(actor, filters))


# A scope whose share of the tickets is small: a community holds ~1/700 of a
# province's, a grid ~1/5,000.
SMALL_SCOPE_LEVELS = frozenset(
    {RegionLevel.AREA, RegionLevel.COMMUNITY, RegionLevel.GRID, RegionLevel.BUILDING}
)


def newest_first(actor, filters=None) -> tuple:
    """The lists' order, newest first, as the plan that suits the actor's scope.

    A large scope (a district, a street, everything) walks the newest-first
    index (``ticket_received_desc``) and stops after a page: its rows are
    everywhere in it. A small scope's rows are one in hundreds there: the walk
    reads ~40,000 rows for a community's page of 50 at 2,000,000 tickets (the
    planner costs it as cheaper than it is), so its order is written as an
    expression no index holds (``newest_first_key``), which makes PostgreSQL
    find the scope's rows through the scope indexes (a bitmap of
    ``ticket_community_recv`` …, some thousands of rows) and sort them: 12 ms
    instead of 77 ms on the bench (docs/scaling.md). Same order either way.

    A street filtered by stage (``filters``: the list's parameters) is small
    too: its rows of one stage are a bitmap arm of ``ticket_street_stage_recv``,
    while the walk passes every newer ticket of other stages first (~200,000
    rows for a street's closed tickets at 2,000,000, which are the old ones)."""
    key = newest_first_key(actor, filters)
    if key is None:
        return ("-received_at", "-pk")
    return (key.desc(), F("pk").desc())


def newest_first_key(actor, filters=None):
    """``received_at`` as an expression no index holds, for the scopes whose
    lists are sorted rather than walked (``newest_first``); None for the others.
    The API's cursor pages order by it under a name of their own."""
    region = getattr(actor, "scope_region", None)
    levels = SMALL_SCOPE_LEVELS
    if filters and filters.get("stage"):
        levels = levels | {RegionLevel.STREET}
    small = (
        region is not None
        and not getattr(actor, "is_superuser", False)
        and region.level in levels
    )
    if not small:
        return None
    return ExpressionWrapper(
        F("received_at") + Value(dt.timedelta(0)), output_field=DateTimeField()
    )


def ticket_count(*, actor, filters=None, cap: int = COUNT_CAP) -> CappedCount:
    """How many tickets ``ticket_list`` gives, up to ``cap`` ("1,000+" past it):
    a person reads a list of fifty and filters it, and needs no exact figure
    for a district's two million. One statement."""
    from .filters import filter_tickets

    return capped_count(filter_tickets(actor=actor, filters=filters), cap)


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


def working_time_left(ticket: Ticket, now=None):
    """Working time left on the current stage's deadline (negative: overdue), or
    None without a deadline: the phone page's countdown."""
    from .workcalendar import working_time_between

    if ticket.stage_deadline is None:
        return None
    return working_time_between(now or timezone.now(), ticket.stage_deadline)


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


def evaluation_link_context(request, ticket: Ticket) -> dict:
    """What the ticket page shows of the reporter's evaluation link: the whole
    URL, its QR code (inline SVG), where to send it by SMS and when this round's
    link was last sent. Empty unless the user may record the verdict now (the
    rule of the SMS service) and the ticket has a reporter phone."""
    if (
        ticket.stage not in TRANSITIONS[Action.EVALUATE][0]
        or not ticket.reporter_phone
        or not permissions.can_record_verdict(request.user, ticket)
    ):
        return {}
    url = request.build_absolute_uri(evaluation_url(ticket=ticket))
    return {
        "url": url,
        "qr_svg": qr_svg(url, title=_("QR code of the evaluation link")),
        "masked_phone": mask_phone(ticket.reporter_phone),
        "can_sms": is_mobile_phone(ticket.reporter_phone),
        "send_url": reverse("tickets:evaluation_link_send", args=[ticket.pk]),
        "last_sent": last_link_sending(ticket),
    }


def my_work_counts(*, actor) -> dict:
    """The phone home's ticket counts for ``actor`` (a grid worker's tickets are
    those in their grids or handled by them: the scope rule): open tickets by
    stage, overdue, due today. One aggregate query after the scope's reads."""
    from django.db.models import Count, Q

    from .choices import OPEN_STAGES, Stage
    from .filters import _due_today_q
    from .querysets import overdue_q

    open_stages = [s for s in Stage if s in OPEN_STAGES]
    aggregates = {
        f"stage_{stage.value}": Count("pk", filter=Q(stage=stage))
        for stage in open_stages
    }
    aggregates["overdue"] = Count("pk", filter=overdue_q())
    aggregates["due_today"] = Count("pk", filter=_due_today_q(None))
    counts = (
        Ticket.objects.visible_to(actor)
        .filter(stage__in=open_stages)
        .aggregate(**aggregates)
    )
    return {
        "by_stage": [(stage, counts[f"stage_{stage.value}"]) for stage in open_stages],
        "overdue": counts["overdue"],
        "due_today": counts["due_today"],
    }


def topic_link(*, ticket: Ticket, user) -> dict | None:
    """The "make it a topic" button of the ticket's pages: built by the function
    ``settings.TICKETS_TOPIC_LINK`` names (partyorg's deliberation, which
    tickets never imports), as ``{"label", "url"}``; None when it gives none
    or no function is set."""
    path = getattr(settings, "TICKETS_TOPIC_LINK", "")
    if not path:
        return None
    link = import_string(path)(ticket, user)
    if not link:
        return None
    label, url = link
    return {"label": label, "url": url}
