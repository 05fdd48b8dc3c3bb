"""Keeping the working calendar: fill a year from ``chinese-calendar``, pre-fill a
later year from ``holidays`` for staff to correct, edit a day, confirm a year —
and then recompute the provisional deadlines that counted over it."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.errors import DomainError
from grids.permissions import can_keep_shared_lists

from .. import permissions
from ..choices import OPEN_STAGES, Action, CalendarSource
from ..models import Ticket, TicketEvent, WorkCalendarDay, WorkCalendarYear
from ..workcalendar import (
    WorkCalendar,
    calendar_days_for_year,
    holiday_guess_for_year,
)
from .common import DayCount, set_deadline

# The years the working calendar is kept for: a year outside is a typing mistake
# (0, 10000…), not a calendar to build (and ``datetime`` cannot hold year 0).
FIRST_CALENDAR_YEAR = 2000
LAST_CALENDAR_YEAR = 2100


def calendar_year_error(year) -> str | None:
    """Why ``year`` cannot have a working calendar, or None when it can."""
    if (
        isinstance(year, int)
        and not isinstance(year, bool)
        and FIRST_CALENDAR_YEAR <= year <= LAST_CALENDAR_YEAR
    ):
        return None
    return _("The working calendar is kept for the years %(first)s to %(last)s.") % {
        "first": FIRST_CALENDAR_YEAR,
        "last": LAST_CALENDAR_YEAR,
    }


def _require_calendar_year(year) -> None:
    error = calendar_year_error(year)
    if error:
        raise DomainError(error, code="calendar_year_out_of_range")


def _require_calendar_keeper(actor) -> None:
    if actor is not None:  # None: the system (migration, command)
        # The same rule as the calendar's admin pages (a shared list).
        permissions.require(can_keep_shared_lists(actor))


def _upsert_days(rows, source: str, *, overwrite_staff: bool) -> int:
    existing_staff = set()
    if not overwrite_staff:
        years = {day.year for day, _w, _n in rows}
        existing_staff = set(
            WorkCalendarDay.objects.filter(
                date__year__in=years, source=CalendarSource.STAFF
            ).values_list("date", flat=True)
        )
    objs = [
        WorkCalendarDay(date=day, is_workday=workday, source=source, note=note[:100])
        for day, workday, note in rows
        if day not in existing_staff
    ]
    WorkCalendarDay.objects.bulk_create(
        objs,
        update_conflicts=True,
        unique_fields=["date"],
        update_fields=["is_workday", "source", "note"],
        batch_size=200,
    )
    return len(objs)


def work_calendar_fill_year(*, year: int, actor=None) -> int:
    """Fill (or refill) a year from ``chinese-calendar`` and mark it confirmed."""
    _require_calendar_keeper(actor)
    _require_calendar_year(year)
    try:
        rows = calendar_days_for_year(year)
    except NotImplementedError:
        raise DomainError(
            _(
                "The chinese-calendar package does not know %(year)s yet: "
                "pre-fill it from the statutory holidays and enter the make-up "
                "workdays by hand."
            )
            % {"year": year},
            code="calendar_unknown_year",
        ) from None
    with transaction.atomic():
        count = _upsert_days(
            rows, CalendarSource.CHINESE_CALENDAR, overwrite_staff=False
        )
        WorkCalendarYear.objects.update_or_create(
            year=year,
            defaults={
                "source": CalendarSource.CHINESE_CALENDAR,
                "confirmed": True,
                "confirmed_by": actor,
                "confirmed_at": timezone.now(),
            },
        )
        tickets_recompute_provisional_deadlines()
    return count


def work_calendar_prefill_year(*, year: int, actor) -> int:
    """Pre-fill an unknown year from ``holidays.China`` plus weekends, unconfirmed:
    staff then add the make-up workdays (调休) and confirm it."""
    _require_calendar_keeper(actor)
    _require_calendar_year(year)
    with transaction.atomic():
        count = _upsert_days(
            holiday_guess_for_year(year), CalendarSource.HOLIDAYS, overwrite_staff=False
        )
        WorkCalendarYear.objects.get_or_create(
            year=year, defaults={"source": CalendarSource.HOLIDAYS, "confirmed": False}
        )
    return count


def work_calendar_set_day(
    *, actor, date: dt.date, is_workday: bool, note: str = ""
) -> WorkCalendarDay:
    """Staff mark one day a workday or a day off."""
    _require_calendar_keeper(actor)
    _require_calendar_year(date.year)
    with transaction.atomic():
        day, _created = WorkCalendarDay.objects.update_or_create(
            date=date,
            defaults={
                "is_workday": is_workday,
                "source": CalendarSource.STAFF,
                "note": (note or "")[:100],
            },
        )
        WorkCalendarYear.objects.get_or_create(
            year=date.year, defaults={"source": CalendarSource.STAFF}
        )
    return day


def work_calendar_confirm_year(*, actor, year: int) -> int:
    """Staff confirm a year: days not entered are taken from the statutory-holiday
    guess, the year stops being provisional, and provisional deadlines are
    recomputed. Returns how many tickets' deadlines were recomputed."""
    _require_calendar_keeper(actor)
    _require_calendar_year(year)
    with transaction.atomic():
        existing = set(
            WorkCalendarDay.objects.filter(date__year=year).values_list(
                "date", flat=True
            )
        )
        missing = [r for r in holiday_guess_for_year(year) if r[0] not in existing]
        if missing:
            _upsert_days(missing, CalendarSource.HOLIDAYS, overwrite_staff=False)
        WorkCalendarYear.objects.update_or_create(
            year=year,
            defaults={
                "source": CalendarSource.STAFF,
                "confirmed": True,
                "confirmed_by": actor,
                "confirmed_at": timezone.now(),
            },
        )
        return tickets_recompute_provisional_deadlines()


def tickets_recompute_provisional_deadlines() -> int:
    """Recompute every open ticket's provisional deadline from its inputs (start,
    days and their unit) with the calendar as it is now; log the change."""
    with transaction.atomic():
        return _recompute_provisional()


def _recompute_provisional() -> int:
    now = timezone.now()
    calendar = WorkCalendar()
    tickets = list(
        Ticket.objects.select_for_update()
        .filter(
            deadline_provisional=True,
            stage__in=OPEN_STAGES,
            deadline_basis_at__isnull=False,
            deadline_working_days__isnull=False,
        )
        .order_by("pk")
    )
    events = []
    for ticket in tickets:
        old = ticket.stage_deadline
        set_deadline(
            ticket,
            start=ticket.deadline_basis_at,
            working_days=DayCount(ticket.deadline_working_days, ticket.deadline_unit),
            calendar=calendar,
        )
        events.append(
            TicketEvent(
                ticket=ticket,
                action=Action.RECALCULATE,
                actor_label="system",
                at=now,
                from_stage=ticket.stage,
                to_stage=ticket.stage,
                deadline=ticket.stage_deadline,
                data={
                    "old": old.isoformat() if old else None,
                    "provisional": ticket.deadline_provisional,
                },
            )
        )
    Ticket.objects.bulk_update(
        tickets, ["stage_deadline", "deadline_provisional", "remind_at"], batch_size=200
    )
    TicketEvent.objects.bulk_create(events, batch_size=200)
    return len(tickets)
