"""Helpers shared by the ticket services: locking, stage changes with their
deadlines, the event log, photos and notifications after commit."""

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import RegionLevel, UserRole
from grids.db import busy_on_lock_timeout
from grids.errors import DomainError, OutOfScope
from grids.notifications import notify
from grids.photos import Photo, photo_from_upload

from ..choices import (
    HOTLINE_DEADLINE_CLASS,
    ClosingLevel,
    DeadlineUnit,
    Source,
    Stage,
)
from ..hotline import outbox as hotline_outbox
from ..models import HandlingLimit, Ticket, TicketEvent, TicketPhoto
from ..workcalendar import WorkCalendar, add_days, working_hours_before


def setting(name: str, default):
    return getattr(settings, name, default)


def reminder_hours() -> float:
    return setting("TICKETS_REMINDER_WORKING_HOURS", 4)


def evaluation_wait_days() -> int:
    return setting("TICKETS_EVALUATION_WORKING_DAYS", 3)


class DayCount(int):
    """A number of days with its unit (``DeadlineUnit``): what ``set_deadline``
    counts. A plain ``int`` counts working days."""

    unit: str

    def __new__(cls, days: int, unit: str = DeadlineUnit.WORKING_DAYS):
        count = super().__new__(cls, days)
        count.unit = unit
        return count

    def __repr__(self):
        return f"DayCount({int(self)}, {self.unit!r})"


def unit_of(days) -> str:
    return getattr(days, "unit", DeadlineUnit.WORKING_DAYS)


def handling_limit(ticket: Ticket) -> HandlingLimit:
    """The deadline class 做单 is counted by: a 12345 ticket takes the general
    class (the hotline's 7 日) whatever its category says (seed 004)."""
    if ticket.source == Source.HOTLINE:
        return HandlingLimit.objects.get(pk=HOTLINE_DEADLINE_CLASS)
    return ticket.deadline_class


def handling_days(ticket: Ticket) -> DayCount:
    """The 做单 limit of ``ticket``, with its unit (日 or 工作日)."""
    limit = handling_limit(ticket)
    return DayCount(limit.days, limit.unit)


def lock_ticket(ticket_id) -> Ticket:
    """The ticket row, locked for the rest of the transaction. A web request that
    waits too long for the lock (a periodic job holds it) is refused with
    ``RecordBusy``: "busy, try again"."""
    with busy_on_lock_timeout():
        ticket = (
            Ticket.objects.select_for_update(of=("self",)).filter(pk=ticket_id).first()
        )
    if ticket is None:
        raise OutOfScope(_("This object does not exist or lies outside your area."))
    return ticket


STAGE_FIELDS = [
    "stage",
    "stage_entered_at",
    "stage_deadline",
    "deadline_provisional",
    "deadline_basis_at",
    "deadline_working_days",
    "deadline_unit",
    "remind_at",
]


def set_deadline(
    ticket: Ticket,
    *,
    start: dt.datetime | None,
    working_days: int | None,
    calendar: WorkCalendar | None = None,
) -> None:
    """Set the current stage's deadline: ``working_days`` after ``start``, counted
    in its unit (a ``DayCount`` carries one; a plain int counts working days).
    The inputs are kept so that a provisional deadline can be recomputed."""
    if start is None or not working_days:
        ticket.stage_deadline = None
        ticket.deadline_provisional = False
        ticket.deadline_basis_at = None
        ticket.deadline_working_days = None
        ticket.deadline_unit = DeadlineUnit.WORKING_DAYS
        ticket.remind_at = None
        return
    calendar = calendar or WorkCalendar()
    unit = unit_of(working_days)
    deadline = add_days(start, int(working_days), unit, calendar=calendar)
    ticket.stage_deadline = deadline.at
    ticket.deadline_provisional = deadline.provisional
    ticket.deadline_basis_at = start
    ticket.deadline_working_days = int(working_days)
    ticket.deadline_unit = unit
    ticket.remind_at = working_hours_before(
        deadline.at, reminder_hours(), calendar=calendar
    )


def move(
    ticket: Ticket,
    to_stage: str,
    *,
    now: dt.datetime,
    working_days: int | None,
    start: dt.datetime | None = None,
) -> list[str]:
    """Put the ticket in ``to_stage`` with its new deadline; the fields changed."""
    ticket.stage = to_stage
    ticket.stage_entered_at = now
    set_deadline(ticket, start=start or now, working_days=working_days)
    return list(STAGE_FIELDS)


def record_event(
    ticket: Ticket,
    *,
    action: str,
    actor=None,
    actor_label: str = "",
    from_stage: str = "",
    note: str = "",
    data: dict | None = None,
    at: dt.datetime | None = None,
) -> TicketEvent:
    event = new_event(
        ticket,
        action=action,
        actor=actor,
        actor_label=actor_label,
        from_stage=from_stage,
        note=note,
        data=data,
        at=at,
    )
    event.save(force_insert=True)
    event_recorded(ticket, event)
    return event


def new_event(
    ticket: Ticket,
    *,
    action: str,
    actor=None,
    actor_label: str = "",
    from_stage: str = "",
    note: str = "",
    data: dict | None = None,
    at: dt.datetime | None = None,
) -> TicketEvent:
    """The event ``record_event`` writes, not saved."""
    return TicketEvent(
        ticket=ticket,
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label,
        at=at or timezone.now(),
        from_stage=from_stage,
        to_stage=ticket.stage,
        note=note,
        deadline=ticket.stage_deadline,
        data=data or {},
    )


def event_recorded(ticket: Ticket, event: TicketEvent) -> None:
    """What follows an event written, in its transaction: a 12345 ticket's
    change is reported back to its platform (the outbox row; no query for
    other sources or for a change the platform does not hear about)."""
    hotline_outbox.record_for_event(ticket, event)


def check_photos(photos) -> list[tuple[Photo, str]]:
    """Check and re-encode every photo before anything is written; each as
    (the re-encoded photo under a random name, its extension)."""
    checked = []
    for upload in photos or ():
        photo = photo_from_upload(upload)
        checked.append((photo, photo.extension))
    return checked


def save_photos(ticket: Ticket, event: TicketEvent, checked) -> list[TicketPhoto]:
    """Store the checked photos (re-encoded, no EXIF; the location the phone
    wrote kept in the row), linked to the event."""
    saved = []
    for photo, _extension in checked:
        row = TicketPhoto(
            ticket=ticket,
            event=event,
            gps_latitude=photo.latitude,
            gps_longitude=photo.longitude,
        )
        row.image.save(photo.content.name, photo.content, save=False)
        row.save()
        saved.append(row)
    return saved


def notify_on_commit(*, recipients, title, body="", url="", dedupe_key="") -> None:
    ids = sorted({getattr(r, "pk", r) for r in recipients if r})
    if not ids:
        return
    transaction.on_commit(
        lambda: notify(
            recipients=ids,
            title=title,
            body=body,
            url=url,
            dedupe_key=dedupe_key,
        )
    )


def unit_staff_ids(*, region=None, department=None) -> list[int]:
    """Accounts that speak for a handling unit: a community's staff or a
    department's members."""
    User = get_user_model()
    if department is not None:
        return list(
            department.members.filter(is_active=True).values_list("pk", flat=True)
        )
    if region is not None:
        return list(
            User.objects.filter(
                is_active=True,
                region=region,
                role__in=[UserRole.COMMUNITY_STAFF, UserRole.STREET_STAFF],
            ).values_list("pk", flat=True)
        )
    return []


def street_of(region):
    """The street (or town) above ``region``: where 制单 and 派单 happen."""
    if region is None:
        return None
    return region.ancestor_of_level(RegionLevel.STREET) or region


def holder_of(ticket: Ticket):
    """The node where the ticket waits in its current stage (see escalation)."""
    if ticket.stage in (Stage.RECEIVED, Stage.TRIAGED):
        return street_of(ticket.region)
    if ticket.handling_region_id:
        return ticket.handling_region
    if ticket.handling_department_id and ticket.handling_department.region_id:
        return ticket.handling_department.region
    return street_of(ticket.region)


def closing_level(ticket: Ticket) -> str:
    """Where the ticket was solved, read at 考单 from its handling unit and
    handler ("小事不出网格、大事不出社区", seed 002): a community's ticket handled
    by a grid worker closes in the grid, by the community's staff in the
    community; a ticket reported up to a street (or a street's department)
    closes at the street; a district's unit closes above it. The backfill
    migration (tickets 0012) states the same rule in SQL."""
    if ticket.handling_department_id:
        region = ticket.handling_department.region
        level = region.level if region is not None else RegionLevel.STREET
    elif ticket.handling_region_id:
        level = ticket.handling_region.level
    else:
        level = ticket.region.level
    if level in (RegionLevel.GRID, RegionLevel.BUILDING):
        return ClosingLevel.GRID
    if level == RegionLevel.COMMUNITY:
        handler = ticket.handler if ticket.handler_id else None
        if handler is not None and handler.role == UserRole.GRID_WORKER:
            return ClosingLevel.GRID
        return ClosingLevel.COMMUNITY
    if level in (RegionLevel.STREET, RegionLevel.AREA):
        return ClosingLevel.STREET
    return ClosingLevel.ABOVE


def require_text(value: str, message) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(message, code="required")
    return value
