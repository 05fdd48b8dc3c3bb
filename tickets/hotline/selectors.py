"""Reads of the hotline integration, scoped to the user: the pushes and
callbacks of the tickets they may see, the platforms serving their area."""

import datetime as dt

from django.db.models import Q

from grids.querysets import ancestors_or_self_q, scope_q

from ..querysets import ticket_scope_q
from .models import (
    HotlineAreaMapping,
    HotlineCategoryMapping,
    HotlineDelivery,
    HotlineInbound,
    HotlinePlatform,
)


def _nothing(user) -> bool:
    return user is None or not user.is_authenticated or not user.is_active


def platforms_visible_to(user):
    """Platforms whose area lies in the user's, or holds the user's area."""
    qs = HotlinePlatform.objects.select_related("region")
    if _nothing(user):
        return qs.none()
    if user.is_superuser:
        return qs
    if user.scope_region is None:
        return qs.none()
    return qs.filter(
        scope_q(user, "region") | ancestors_or_self_q(user.scope_region, "region")
    )


def _platform_in(user, prefix: str) -> Q:
    ids = platforms_visible_to(user).values("pk")
    return Q(**{f"{prefix}__in": ids})


def category_mappings_visible_to(user):
    qs = HotlineCategoryMapping.objects.select_related("platform", "category")
    if _nothing(user):
        return qs.none()
    return qs if user.is_superuser else qs.filter(_platform_in(user, "platform"))


def area_mappings_visible_to(user):
    """The mappings onto places in the user's area."""
    qs = HotlineAreaMapping.objects.select_related("platform", "region")
    if _nothing(user):
        return qs.none()
    if user.is_superuser:
        return qs
    return qs.filter(_platform_in(user, "platform")).filter(scope_q(user, "region"))


def inbound_visible_to(user):
    qs = HotlineInbound.objects.select_related("platform", "ticket")
    if _nothing(user):
        return qs.none()
    return qs.filter(ticket__isnull=False).filter(ticket_scope_q(user, "ticket"))


def deliveries_visible_to(user):
    qs = HotlineDelivery.objects.select_related("platform", "ticket")
    if _nothing(user):
        return qs.none()
    return qs.filter(ticket_scope_q(user, "ticket"))


# --- The platform reads a ticket back ---------------------------------------------


def _iso(value):
    return value.astimezone(dt.UTC).isoformat() if value else None


def hotline_ticket_status(*, platform: HotlinePlatform, number: str) -> dict | None:
    """The current state of the ticket ``platform`` pushed as ``number``, in the
    callbacks' terms (docs/hotline.md, "Reading a ticket back"); None when this
    platform pushed no such number (another platform's number included). No
    personal data. Two queries: the push with its ticket, the last change."""
    from .outbox import FINAL_STAGES, REPORTED_ACTIONS

    inbound = (
        HotlineInbound.objects.select_related("ticket")
        .filter(platform=platform, number=number[:40], ticket__isnull=False)
        .first()
    )
    if inbound is None:
        return None
    ticket = inbound.ticket
    sequence = (
        ticket.events.filter(action__in=sorted(REPORTED_ACTIONS))
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    final = ticket.stage in FINAL_STAGES
    return {
        "hotline_number": inbound.number,
        "ticket_number": ticket.number,
        "stage": ticket.stage,
        "final": final,
        # The id of the last change reported by callback (their "sequence"),
        # null before the first.
        "sequence": sequence,
        "received_at": _iso(ticket.received_at),
        "updated_at": _iso(ticket.updated_at),
        "stage_deadline": _iso(ticket.stage_deadline),
        "result": ticket.result,
        "verdict": ticket.verdict if final else "",
        "closed_at": _iso(ticket.closed_at) if final else None,
        "flags": list(inbound.flags),
    }
