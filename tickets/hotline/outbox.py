"""The outbox of callbacks to the platform.

Every stage change of a pushed ticket writes a ``HotlineDelivery`` row in the
transaction of the change (``record_for_event``, called by the one function
that writes ticket events, ``services.common.record_event``, and by the
set-based jobs for their batches, ``record_for_events``): a change rolled back
leaves no delivery. After commit the delivery is announced to a worker
(``grids.broker.enqueue``); if Redis is down the row waits for the sweep.

Sending (``hotline_delivery_send``) claims the row with one conditional UPDATE,
so two workers (a task announced twice, a sweep racing the commit hook) never
both send it; posts it outside any transaction; then records the outcome: 2xx
delivered; anything else retried after ``HOTLINE_RETRY_BASE_SECONDS`` ×
2^(attempt−1) (capped), and dead after ``HOTLINE_MAX_ATTEMPTS`` attempts. A
worker that dies mid-send leaves a claim that lapses; the sweep announces the
row again and the platform sees the same delivery id twice at most (it dedupes
on ``X-Hotline-Delivery``).
"""

import datetime as dt
import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import broker
from grids.errors import DomainError
from grids.permissions import is_active_user, require

from ..choices import TRANSITIONS, Action, Source, Stage
from . import signing
from .choices import DeliveryState
from .models import HotlineDelivery, HotlineInbound

logger = logging.getLogger(__name__)

# The changes the platform hears about: every stage change (the actions of the
# transition table) and the final result (考单 closes; 合并 closes too).
REPORTED_ACTIONS = frozenset(TRANSITIONS)
FINAL_STAGES = frozenset({Stage.CLOSED, Stage.MERGED})
WAITING = (DeliveryState.PENDING, DeliveryState.RETRY, DeliveryState.SENDING)


def _setting(name, default):
    return getattr(settings, name, default)


def max_attempts() -> int:
    return max(1, int(_setting("HOTLINE_MAX_ATTEMPTS", 8)))


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: base × 2^(n−1), capped."""
    base = float(_setting("HOTLINE_RETRY_BASE_SECONDS", 30))
    cap = float(_setting("HOTLINE_RETRY_MAX_SECONDS", 6 * 3600))
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def timeout_seconds() -> float:
    return float(_setting("HOTLINE_CALLBACK_TIMEOUT_SECONDS", 10))


def _iso(value):
    return value.astimezone(dt.UTC).isoformat() if value else None


def payload_for(*, delivery_id, platform_code, hotline_number, ticket, event) -> dict:
    """What the platform receives (docs/hotline.md, "Callbacks"): the change, the
    ticket's state after it and, at the end, the result. No personal data."""
    final = event["to_stage"] in FINAL_STAGES
    body = {
        "delivery_id": str(delivery_id),
        "platform": platform_code,
        "hotline_number": hotline_number,
        "ticket_number": ticket["number"],
        "sequence": event["id"],
        "event": {
            "action": event["action"],
            "from_stage": event["from_stage"],
            "to_stage": event["to_stage"],
            "at": _iso(event["at"]),
            "deadline": _iso(event["deadline"]),
        },
        "stage": event["to_stage"],
        "final": final,
    }
    if event["action"] == Action.HANDLE or final:
        body["result"] = ticket["result"]
    if final:
        body["verdict"] = ticket["verdict"]
        body["closed_at"] = _iso(ticket["closed_at"])
    return body


def _reported(action: str, to_stage: str) -> bool:
    """A stage change the platform hears about (not the survivor's side of a
    merge, which keeps its stage)."""
    return action in REPORTED_ACTIONS and TRANSITIONS[action][1] == to_stage


def _announce_on_commit(ids) -> None:
    ids = [str(i) for i in ids]
    if not ids:
        return

    def announce():
        from .tasks import deliver

        for delivery_id in ids:
            broker.enqueue(deliver, delivery_id)

    transaction.on_commit(announce)


def record_for_event(ticket, event) -> HotlineDelivery | None:
    """The delivery of one change, in the caller's transaction; None for a ticket
    the platform did not push or a change it does not hear about (no query for
    those)."""
    if ticket.source != Source.HOTLINE or not _reported(event.action, event.to_stage):
        return None
    inbound = (
        HotlineInbound.objects.filter(ticket_id=ticket.pk)
        .select_related("platform")
        .only("number", "platform__code")
        .first()
    )
    if inbound is None:
        return None
    now = timezone.now()
    delivery = HotlineDelivery(
        platform_id=inbound.platform_id,
        ticket_id=ticket.pk,
        event=event,
        next_attempt_at=now,
        announced_at=now,
        created_at=now,
    )
    delivery.payload = payload_for(
        delivery_id=delivery.id,
        platform_code=inbound.platform.code,
        hotline_number=inbound.number,
        ticket={
            "number": ticket.number,
            "result": ticket.result,
            "verdict": ticket.verdict,
            "closed_at": ticket.closed_at,
        },
        event={
            "id": event.pk,
            "action": event.action,
            "from_stage": event.from_stage,
            "to_stage": event.to_stage,
            "at": event.at,
            "deadline": event.deadline,
        },
    )
    delivery.save(force_insert=True)
    _announce_on_commit([delivery.id])
    return delivery


def record_for_events(events) -> int:
    """The deliveries of a set-based job's events (a queryset of
    ``TicketEvent``), in the job's transaction: one query to find the pushed
    tickets among them, one insert."""
    rows = list(
        events.filter(
            action__in=sorted(REPORTED_ACTIONS),
            ticket__source=Source.HOTLINE,
            ticket__hotline_inbound__isnull=False,
        ).values(
            "id",
            "action",
            "from_stage",
            "to_stage",
            "at",
            "deadline",
            "ticket_id",
            "ticket__number",
            "ticket__result",
            "ticket__verdict",
            "ticket__closed_at",
            "ticket__hotline_inbound__number",
            "ticket__hotline_inbound__platform_id",
            "ticket__hotline_inbound__platform__code",
        )
    )
    rows = [row for row in rows if _reported(row["action"], row["to_stage"])]
    if not rows:
        return 0
    now = timezone.now()
    deliveries = []
    for row in rows:
        delivery = HotlineDelivery(
            platform_id=row["ticket__hotline_inbound__platform_id"],
            ticket_id=row["ticket_id"],
            event_id=row["id"],
            next_attempt_at=now,
            announced_at=now,
            created_at=now,
        )
        delivery.payload = payload_for(
            delivery_id=delivery.id,
            platform_code=row["ticket__hotline_inbound__platform__code"],
            hotline_number=row["ticket__hotline_inbound__number"],
            ticket={
                "number": row["ticket__number"],
                "result": row["ticket__result"],
                "verdict": row["ticket__verdict"],
                "closed_at": row["ticket__closed_at"],
            },
            event=row,
        )
        deliveries.append(delivery)
    HotlineDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    _announce_on_commit([d.id for d in deliveries])
    return len(deliveries)


# --- sending ---------------------------------------------------------------------


def _claimable(now) -> Q:
    return (
        Q(state=DeliveryState.PENDING)
        | Q(state=DeliveryState.RETRY, next_attempt_at__lte=now)
        | Q(state=DeliveryState.SENDING, claimed_until__lt=now)
    )


def _post(url: str, body: bytes, headers: dict) -> int:
    """POST; the HTTP status, or an ``OSError`` for no answer at all."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds()) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def hotline_delivery_send(*, delivery_id, now: dt.datetime | None = None) -> str | None:
    """Send one delivery if it is due and nobody else holds it; its state after,
    or None when it was not this call's to send (already sent, claimed, not
    due). The HTTP request runs outside any transaction."""
    now = now or timezone.now()
    lease = dt.timedelta(seconds=timeout_seconds() * 3 + 30)
    claimed = (
        HotlineDelivery.objects.filter(_claimable(now), pk=delivery_id)
        .filter(platform__enabled=True)
        .update(
            state=DeliveryState.SENDING,
            attempts=F("attempts") + 1,
            claimed_until=now + lease,
        )
    )
    if not claimed:
        return None
    delivery = HotlineDelivery.objects.select_related("platform").get(pk=delivery_id)
    platform = delivery.platform
    body = json.dumps(delivery.payload, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Gridwork-12345/1",
        signing.DELIVERY_HEADER: str(delivery.id),
        **signing.signed_headers(platform.secret, platform.code, body),
    }
    status, error = None, ""
    if not platform.callback_url:
        error = "no callback URL"
    else:
        try:
            status = _post(platform.callback_url, body, headers)
        except (OSError, ValueError) as exc:  # refused, timed out, bad URL
            error = f"{type(exc).__name__}: {exc}"[:300]
    done = timezone.now()
    if status is not None and 200 <= status < 300:
        changes = {"state": DeliveryState.DELIVERED, "delivered_at": done}
    else:
        error = error or f"HTTP {status}"
        if delivery.attempts >= max_attempts():
            changes = {"state": DeliveryState.DEAD}
            logger.warning(
                "12345 callback %s to %s dead after %d attempts: %s",
                delivery.id,
                platform.code,
                delivery.attempts,
                error,
            )
        else:
            changes = {
                "state": DeliveryState.RETRY,
                "next_attempt_at": done + backoff(delivery.attempts),
            }
    # Only this claim's outcome is written (a lapsed claim taken over by
    # another worker is not overwritten).
    HotlineDelivery.objects.filter(
        pk=delivery.pk, state=DeliveryState.SENDING, attempts=delivery.attempts
    ).update(claimed_until=None, last_status=status, last_error=error, **changes)
    return changes["state"]


def hotline_deliveries_sweep(
    *, now: dt.datetime | None = None, limit: int | None = None
) -> int:
    """Announce again the deliveries that are due and were not announced
    recently (Redis was down at commit, a retry's time came, a worker died);
    the number announced. One UPDATE … RETURNING marks them, so two sweeps at
    once announce each row once; a row announced twice is still sent once (the
    claim)."""
    now = now or timezone.now()
    limit = limit or int(_setting("HOTLINE_SWEEP_LIMIT", 1000))
    again_after = dt.timedelta(
        seconds=float(_setting("HOTLINE_ANNOUNCE_AGAIN_SECONDS", 120))
    )
    due = (
        HotlineDelivery.objects.filter(_claimable(now), platform__enabled=True)
        .filter(Q(announced_at__isnull=True) | Q(announced_at__lt=now - again_after))
        .filter(next_attempt_at__lte=now)
    )
    with transaction.atomic():
        ids = list(
            due.order_by("next_attempt_at")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            HotlineDelivery.objects.filter(pk__in=ids).update(announced_at=now)
        _announce_on_commit(ids)
    return len(ids)


def hotline_deliveries_resend(*, actor, delivery_ids) -> int:
    """Staff send dead (or waiting) deliveries again, now, with the same id; a
    delivered one is not sent again. The number queued."""
    from .selectors import deliveries_visible_to

    require(is_active_user(actor) and can_resend(actor))
    now = timezone.now()
    with transaction.atomic():
        rows = (
            deliveries_visible_to(actor)
            .filter(pk__in=list(delivery_ids))
            .filter(state__in=[DeliveryState.DEAD, DeliveryState.RETRY])
        )
        ids = list(rows.values_list("pk", flat=True))
        if not ids:
            raise DomainError(
                _("Only dead or waiting callbacks can be sent again."),
                code="wrong_state",
            )
        HotlineDelivery.objects.filter(
            pk__in=ids, state__in=[DeliveryState.DEAD, DeliveryState.RETRY]
        ).update(
            state=DeliveryState.PENDING,
            attempts=0,
            next_attempt_at=now,
            last_error="",
            announced_at=now,
        )
        _announce_on_commit(ids)
    return len(ids)


def can_resend(user) -> bool:
    from ..permissions import can_manage_departments

    return user.is_superuser or can_manage_departments(user)
