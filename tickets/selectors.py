"""Reads of tickets, scoped to the actor: the list with its filters, the detail
with its timeline, the evaluation link panel, and counts."""

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.masking import mask_phone
from grids.models import Region
from grids.permissions import require_in_scope
from grids.qr import qr_svg
from grids.validators import is_mobile_phone

from . import permissions
from .choices import ESCALATING_STAGES, TRANSITIONS, Action, Verdict
from .models import Ticket, TicketEvent
from .services.evaluation import evaluation_url, last_link_sending


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
