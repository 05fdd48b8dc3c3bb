"""Chinese working days: the one place that computes a deadline.

A limit is counted in the unit the seed writes it in (``DeadlineUnit``):

- N working days (工作日): the deadline falls at the end of the working day
  (17:30 local time) of the N-th working day *after* the day of the start. A
  ticket received on Monday at any hour with one working day to go is due on
  Tuesday at 17:30; received on the Friday before National Day, on the first
  workday after it. Make-up workdays (调休) count.
- N days (日, calendar days): the N-th calendar day after the day of the start,
  at 17:30; when that day is a holiday or a rest day, the limit ends on the next
  working day at 17:30 (the usual rule for statutory periods).

Working hours (for reminders) run from 09:00 to 17:30 on working days.

The ``WorkCalendarDay`` table is the source (filled from ``chinese-calendar``
for the years it knows, 2004–2026, and edited by staff). A day in a year that
``WorkCalendarYear`` does not mark confirmed falls back to a row staff already
entered, else to ``holidays.China`` plus weekends — which knows statutory
holidays but not the make-up workdays (调休) — and any deadline counted over
such a day is *provisional*: it is recomputed when staff confirm the year.
"""

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import holidays
from django.utils import timezone

WORKDAY_START = dt.time(9, 0)
WORKDAY_END = dt.time(17, 30)


@dataclass(frozen=True)
class Deadline:
    at: dt.datetime
    provisional: bool


@lru_cache(maxsize=64)
def _statutory_holidays(year: int) -> frozenset:
    return frozenset(holidays.China(years=year).keys())


def guessed_workday(day: dt.date) -> bool:
    """Fallback for an unconfirmed year: weekdays that are not statutory holidays."""
    return day.weekday() < 5 and day not in _statutory_holidays(day.year)


# The calendar's version (``tickets.versions``): a one-row table that a trigger
# on the day and year tables sets to a new value of a sequence in the
# transaction of any change (migration 0011).


class _Snapshot:
    """What this process has read of the calendar at one version."""

    def __init__(self, version):
        from .models import WorkCalendarYear

        self.version = version
        self.confirmed = frozenset(
            WorkCalendarYear.objects.filter(confirmed=True).values_list(
                "year", flat=True
            )
        )
        self.years: dict[int, dict[dt.date, bool]] = {}


_snapshot: _Snapshot | None = None


def calendar_version():
    """The calendar's current version (``tickets.versions``: one primary-key
    read, none inside ``versions.pinned()`` once read), or None where the
    database keeps none (not PostgreSQL): then nothing is cached."""
    from . import versions

    return versions.current().calendar


def forget_cached_calendar() -> None:
    global _snapshot
    _snapshot = None


def _current_snapshot() -> _Snapshot:
    """The snapshot of the current version: this process's when the version has
    not changed since it was read (no further query), else a fresh one."""
    global _snapshot
    version = calendar_version()
    snapshot = _snapshot
    if version is None or snapshot is None or snapshot.version != version:
        snapshot = _Snapshot(version)
        if version is not None:
            _snapshot = snapshot
    return snapshot


class WorkCalendar:
    """Reads the calendar table one year at a time.

    Make one per computation (or per batch): staff may edit the table at any
    time. Making one reads the calendar's version (one query); the years this
    process has already read at that version are not read again (a change by
    staff gives a new version: see ``tickets.versions``).
    """

    def __init__(self):
        snapshot = _current_snapshot()
        self._confirmed = snapshot.confirmed
        self._years = snapshot.years

    def _rows(self, year: int) -> dict:
        if year not in self._years:
            from .models import WorkCalendarDay

            self._years[year] = dict(
                WorkCalendarDay.objects.filter(date__year=year).values_list(
                    "date", "is_workday"
                )
            )
        return self._years[year]

    def day(self, day: dt.date) -> tuple[bool, bool]:
        """(is it a working day, is that a guess)."""
        rows = self._rows(day.year)
        provisional = day.year not in self._confirmed
        if day in rows:
            return rows[day], provisional
        if provisional:
            return guessed_workday(day), True
        return day.weekday() < 5, False

    def is_workday(self, day: dt.date) -> bool:
        return self.day(day)[0]


def _local(moment: dt.datetime) -> dt.datetime:
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return timezone.localtime(moment)


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, time))


def add_calendar_days(
    start: dt.datetime, days: int, *, calendar: WorkCalendar | None = None
) -> Deadline:
    """The deadline ``days`` calendar days after ``start``, moved to the next
    working day when it falls on a day off (see the module rule)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    calendar = calendar or WorkCalendar()
    day = _local(start).date() + dt.timedelta(days=days)
    is_workday, provisional = calendar.day(day)
    for _ in range(366):
        if is_workday:
            break
        day += dt.timedelta(days=1)
        is_workday, guessed = calendar.day(day)
        provisional = provisional or guessed
    return Deadline(at=_at(day, WORKDAY_END), provisional=provisional)


def add_days(
    start: dt.datetime,
    days: int,
    unit: str,
    *,
    calendar: WorkCalendar | None = None,
) -> Deadline:
    """The deadline of a limit of ``days`` in ``unit`` (a ``DeadlineUnit``)."""
    from .choices import DeadlineUnit

    if unit == DeadlineUnit.CALENDAR_DAYS:
        return add_calendar_days(start, days, calendar=calendar)
    if unit == DeadlineUnit.WORKING_DAYS:
        return add_working_days(start, days, calendar=calendar)
    raise ValueError(f"unknown deadline unit {unit!r}")


def add_working_days(
    start: dt.datetime, days: int, *, calendar: WorkCalendar | None = None
) -> Deadline:
    """The deadline ``days`` working days after ``start`` (see the module rule)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    calendar = calendar or WorkCalendar()
    day = _local(start).date()
    provisional = False
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        is_workday, guessed = calendar.day(day)
        provisional = provisional or guessed
        if is_workday:
            counted += 1
    return Deadline(at=_at(day, WORKDAY_END), provisional=provisional)


def working_hours_before(
    moment: dt.datetime, hours: float, *, calendar: WorkCalendar | None = None
) -> dt.datetime:
    """The instant ``hours`` working hours (09:00–17:30 on working days) before
    ``moment``: when to remind someone of a deadline."""
    calendar = calendar or WorkCalendar()
    remaining = dt.timedelta(hours=hours)
    cursor = _local(moment)
    for _ in range(366):
        day = cursor.date()
        if calendar.is_workday(day):
            day_start, day_end = _at(day, WORKDAY_START), _at(day, WORKDAY_END)
            end = min(cursor, day_end)
            if end > day_start:
                available = end - day_start
                if available >= remaining:
                    return end - remaining
                remaining -= available
        cursor = _at(day - dt.timedelta(days=1), dt.time(23, 59, 59))
    return cursor


def working_time_between(
    start: dt.datetime, end: dt.datetime, *, calendar: WorkCalendar | None = None
) -> dt.timedelta:
    """Working time (09:00–17:30 on working days) from ``start`` to ``end``;
    negative when ``end`` is before ``start`` (a deadline already passed). Stops
    counting after a year of days (a deadline further away is shown as a year)."""
    if end < start:
        return -working_time_between(end, start, calendar=calendar)
    calendar = calendar or WorkCalendar()
    total = dt.timedelta()
    start, end = _local(start), _local(end)
    day = start.date()
    for _ in range(366):
        if day > end.date():
            break
        if calendar.is_workday(day):
            day_start = max(_at(day, WORKDAY_START), start)
            day_end = min(_at(day, WORKDAY_END), end)
            if day_end > day_start:
                total += day_end - day_start
        day += dt.timedelta(days=1)
    return total


# The note of a make-up workday (调休上班): data in the calendar table, in the
# language of the State Council's notice like the holiday names.
MAKE_UP_WORKDAY_NOTE = "调休上班"


def chinese_holiday_name(name: str) -> str:
    """The Chinese name of a ``chinese-calendar`` holiday (it reports English)."""
    from chinese_calendar.constants import Holiday

    try:
        return Holiday(name).chinese
    except ValueError:
        return name


def calendar_days_for_year(year: int):
    """Every day of ``year`` from ``chinese-calendar``: (date, is_workday, note),
    holidays named in Chinese.

    Raises NotImplementedError for a year the package does not know.
    """
    import chinese_calendar

    day = dt.date(year, 1, 1)
    out = []
    while day.year == year:
        is_workday = chinese_calendar.is_workday(day)
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
        if is_workday and day.weekday() >= 5:
            note = MAKE_UP_WORKDAY_NOTE
        elif is_holiday and name:
            note = chinese_holiday_name(str(name))
        else:
            note = ""
        out.append((day, is_workday, note))
        day += dt.timedelta(days=1)
    return out


def holiday_guess_for_year(year: int):
    """Every day of ``year`` guessed from ``holidays.China`` plus weekends,
    holidays named in Chinese."""
    names = holidays.China(years=year, language="zh_CN")
    day = dt.date(year, 1, 1)
    out = []
    while day.year == year:
        out.append((day, guessed_workday(day), str(names.get(day, ""))))
        day += dt.timedelta(days=1)
    return out
