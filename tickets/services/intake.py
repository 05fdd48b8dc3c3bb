"""Intake (受理): a ticket comes in from a channel; likely duplicates; merging."""

import contextlib
import datetime as dt
import math
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import prepared
from grids.choices import RegionLevel
from grids.errors import Conflict, DomainError, OutOfScope
from grids.models import Region
from grids.querysets import subtree_q
from grids.validators import normalize_phone, validate_mainland_phone

from .. import permissions, versions
from ..choices import (
    OPEN_STAGES,
    TRIAGE_WORKING_DAYS,
    Action,
    DeadlineClass,
    Source,
    Stage,
)
from ..models import Category, Ticket, TicketEvent
from ..places import level_nodes
from . import numbers
from .common import (
    check_photos,
    event_recorded,
    lock_ticket,
    move,
    new_event,
    record_event,
    require_text,
    save_photos,
    set_deadline,
    setting,
)

# What a 12345 push is, for telling a repeated push from a clash: the fields the
# platform sends, compared after the same clean-up as intake (spacing trimmed, the
# phone normalised; category and place by id). Coordinates and photos are not
# compared: the platform sends them late or not at all.
HOTLINE_CONTENT_FIELDS = (
    "description",
    "address",
    "reporter_name",
    "reporter_phone",
    "category",
    "region",
)


def _hotline_content(ticket: Ticket) -> dict:
    return {
        "description": ticket.description,
        "address": ticket.address,
        "reporter_name": ticket.reporter_name,
        "reporter_phone": ticket.reporter_phone,
        "category": ticket.category_id,
        "region": ticket.region_id,
    }


def _received_content(existing: Ticket) -> dict:
    """What the platform sent the first time: kept in the CREATE event, since
    triage changes the place and category afterwards."""
    event = existing.events.filter(action=Action.CREATE).order_by("at", "pk").first()
    if event is not None and "hotline" in event.data:
        return event.data["hotline"]
    return _hotline_content(existing)


def _replay(actor, existing: Ticket, pushed: Ticket) -> Ticket:
    """The answer to a hotline number already received: the same ticket for the
    same content, a Conflict for another, OutOfScope outside the caller's area."""
    if not permissions.can_see(actor, existing):
        raise OutOfScope(_("This object does not exist or lies outside your area."))
    received, now = _received_content(existing), _hotline_content(pushed)
    different = [f for f in HOTLINE_CONTENT_FIELDS if received.get(f) != now[f]]
    if different:
        raise Conflict(
            _(
                "12345 ticket %(number)s was already received with other "
                "content; it is not overwritten."
            )
            % {"number": existing.hotline_number},
            code="hotline_number_conflict",
            extra={"ticket": existing.pk, "fields": different},
        )
    return existing


# The place's path and the calendar are checked current with one read.
@versions.pinned()
def ticket_create(
    *,
    actor,
    source: str,
    region: Region,
    description: str,
    hotline_number: str | None = None,
    category: Category | None = None,
    address: str = "",
    latitude: Decimal | float | None = None,
    longitude: Decimal | float | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    received_at: dt.datetime | None = None,
    photos=(),
    event_data: dict | None = None,
) -> Ticket:
    """Receive a ticket (``event_data``: kept in the CREATE event, e.g. the
    patrol that found it).

    A 12345 ticket pushed again (same hotline number) with the same content (see
    ``HOTLINE_CONTENT_FIELDS``) returns the ticket already received, with no new
    event; with other content it is refused (``Conflict``,
    ``hotline_number_conflict``) and nothing is overwritten; a ticket of that
    number outside the caller's area is refused as ``OutOfScope``. Two pushes at
    once are one ticket: the database's unique number decides, and the loser gets
    the same answer as a later push.
    """
    permissions.require(permissions.can_create(actor))
    permissions.require_in_scope(actor, region)
    if source not in Source.values:
        raise DomainError(_("Unknown source."), code="invalid")
    hotline_number = (hotline_number or "").strip() or None
    if source == Source.HOTLINE and not hotline_number:
        raise DomainError(
            _("A 12345 ticket needs the hotline's ticket number."), code="required"
        )
    description = require_text(description, _("Describe the matter."))
    reporter_phone = normalize_phone(reporter_phone)
    if reporter_phone:
        try:
            validate_mainland_phone(reporter_phone)
        except ValidationError as exc:
            raise DomainError(" ".join(exc.messages), code="invalid") from None
    now = timezone.now()
    received_at = received_at or now
    ticket = Ticket(
        source=source,
        hotline_number=hotline_number,
        region=region,
        category=category,
        address=(address or "").strip(),
        latitude=latitude,
        longitude=longitude,
        reporter_name=(reporter_name or "").strip(),
        reporter_phone=reporter_phone,
        description=description,
        received_at=received_at,
        stage=Stage.RECEIVED,
        stage_entered_at=received_at,
        created_by=actor,
    )
    checked = check_photos(photos)
    # The category's class; a 12345 ticket is handled within the general class
    # whatever it says (``common.handling_limit``).
    ticket.deadline_class = (
        category.deadline_class_id if category else DeadlineClass.GENERAL
    )
    # Held at the street of the place (its path is cached: no query).
    ticket.holder_region_id = level_nodes(region).get(RegionLevel.STREET, region.pk)
    # 制单 and 派单 together within one working day of receipt.
    set_deadline(ticket, start=received_at, working_days=TRIAGE_WORKING_DAYS)
    data = dict(event_data or {})
    if hotline_number:
        data["hotline"] = _hotline_content(ticket)
    try:
        # A savepoint only where an IntegrityError is expected and handled (a
        # 12345 number pushed again): inside a caller's transaction (the API's
        # Idempotency-Key) it costs two round trips.
        if checked or connection.vendor != "postgresql":
            with transaction.atomic(savepoint=bool(hotline_number)):
                ticket.number = numbers.next_ticket_number(received_at)
                ticket.save()
                event = record_event(
                    ticket,
                    action=Action.CREATE,
                    actor=actor,
                    at=now,
                    note="",
                    data=data,
                )
                save_photos(ticket, event, checked)
        else:
            _insert_ticket_and_event(
                ticket,
                actor=actor,
                at=now,
                data=data,
                savepoint=bool(hotline_number),
            )
    except IntegrityError:
        # A push of a hotline number already received (the unique number
        # refuses it; no read before the insert, which most pushes would not
        # need): answer with the ticket received first, or refuse other content.
        existing = (
            Ticket.objects.filter(hotline_number=hotline_number).first()
            if hotline_number
            else None
        )
        if existing is None:
            raise
        ticket.pk = None
        return _replay(actor, existing, ticket)
    return ticket


def _insert_ticket_and_event(
    ticket: Ticket, *, actor, at, data, savepoint: bool
) -> TicketEvent:
    """The common intake (no photos, PostgreSQL) in one statement: the number
    taken, the ticket and its CREATE event written, the ids and the number read
    back. A statement is atomic by itself, so outside a transaction it needs no
    BEGIN and COMMIT (three round trips fewer than the number, the ticket and
    the event each in its own statement inside a transaction); inside one, a
    12345 number (``savepoint``) runs in a savepoint, so that a refused number
    leaves the caller's transaction usable. The same rows as ``ticket.save()`` and
    ``record_event`` (tests/tickets/test_services_intake.py compares them)."""
    number_body, number_params, number = numbers.next_ticket_number_sql(
        ticket.received_at
    )
    ticket.set_scope_columns()
    ticket.number = RawSQL(number, ())
    event = new_event(
        ticket, action=Action.CREATE, actor=actor, at=at, note="", data=data
    )
    event.ticket_id = RawSQL("SELECT id FROM ticket_made", ())
    ticket_sql, ticket_params = prepared.insert_statement(
        ticket, "id, number", using=connection.alias
    )
    event_sql, event_params = prepared.insert_statement(
        event, "id", using=connection.alias
    )
    sql = (
        f"WITH number_taken AS ({number_body}), ticket_made AS ({ticket_sql}),"
        f" event_made AS ({event_sql})"
        " SELECT ticket_made.id, ticket_made.number, event_made.id"
        " FROM ticket_made CROSS JOIN event_made"
    )
    params = [*number_params, *ticket_params, *event_params]
    try:
        with contextlib.ExitStack() as stack:
            if savepoint and connection.in_atomic_block:
                stack.enter_context(transaction.atomic())
            with connection.cursor() as cursor:
                prepared.execute(cursor, sql, params)
                ticket_id, ticket_number, event_id = cursor.fetchone()
    except BaseException:
        ticket.number = None
        raise
    ticket.pk, ticket.number = ticket_id, ticket_number
    ticket._state.adding, ticket._state.db = False, connection.alias
    event.pk, event.ticket = event_id, ticket
    event._state.adding, event._state.db = False, connection.alias
    # Whatever else an event brings (the 12345 outbox: nothing for a CREATE).
    event_recorded(ticket, event)
    return event


def _grid_of(region: Region) -> Region:
    if region.level == RegionLevel.BUILDING and region.parent_id:
        return region.parent
    return region


def _distance_m(lat1, lng1, lat2, lng2) -> float:
    """Great-circle distance in metres (haversine)."""
    lat1, lng1, lat2, lng2 = (math.radians(float(x)) for x in (lat1, lng1, lat2, lng2))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def ticket_likely_duplicates(
    *,
    ticket: Ticket,
    radius_m: float | None = None,
    window_days: int | None = None,
) -> list[Ticket]:
    """Open tickets in the same grid and category, received within the window,
    and within the radius when both have coordinates: offered at intake."""
    radius_m = radius_m or setting("TICKETS_DUPLICATE_RADIUS_M", 200)
    window_days = window_days or setting("TICKETS_DUPLICATE_WINDOW_DAYS", 7)
    window = dt.timedelta(days=window_days)
    grid = _grid_of(ticket.region)
    qs = (
        Ticket.objects.open()
        .filter(subtree_q(grid, "region"))
        .filter(
            received_at__gte=ticket.received_at - window,
            received_at__lte=ticket.received_at + window,
        )
        .exclude(pk=ticket.pk)
        .order_by("received_at")
    )
    if ticket.category_id:
        qs = qs.filter(category_id=ticket.category_id)
    out = []
    for other in qs[:50]:
        if None not in (
            ticket.latitude,
            ticket.longitude,
            other.latitude,
            other.longitude,
        ) and radius_m < _distance_m(
            ticket.latitude, ticket.longitude, other.latitude, other.longitude
        ):
            continue
        out.append(other)
    return out


def ticket_merge(*, actor, ticket_id: int, into_id: int, note: str = "") -> Ticket:
    """Merge a duplicate into another ticket: it closes with a pointer; its
    reporter is kept and evaluates the surviving ticket."""
    if ticket_id == into_id:
        raise DomainError(_("A ticket cannot be merged into itself."), code="invalid")
    now = timezone.now()
    with transaction.atomic():
        # Lock both in id order so two merges cannot deadlock.
        locked = {t: lock_ticket(t) for t in sorted([ticket_id, into_id])}
        ticket, survivor = locked[ticket_id], locked[into_id]
        permissions.require_action(actor, ticket, Action.MERGE)
        if not permissions.can_triage(actor, survivor):
            permissions.require_in_scope(actor, None)
        if survivor.stage not in OPEN_STAGES:
            raise Conflict(
                _("Ticket %(number)s is closed; merge into an open ticket.")
                % {"number": survivor.display_number},
                code="wrong_stage",
            )
        from_stage = ticket.stage
        fields = move(ticket, Stage.MERGED, now=now, working_days=None)
        ticket.merged_into = survivor
        ticket.closed_at = now
        ticket.save(update_fields=[*fields, "merged_into", "closed_at", "updated_at"])
        record_event(
            ticket,
            action=Action.MERGE,
            actor=actor,
            from_stage=from_stage,
            note=note,
            data={"into": survivor.pk},
            at=now,
        )
        record_event(
            survivor,
            action=Action.MERGE,
            actor=actor,
            from_stage=survivor.stage,
            note=note,
            data={"merged": ticket.pk},
            at=now,
        )
    return ticket
