"""Chinese working days: the one place that computes a deadline.

The rule: a deadline of N working days falls at the end of the working day
(17:30 local time) of the N-th working day *after* the day of the start. A ticket
received on Monday at any hour with one working day to go is due on Tuesday at
17:30; received on the Friday before National Day, on the first workday after it.
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


class WorkCalendar:
    """Reads the calendar table one year at a time (one query per year used).

    Make one per computation (or per batch): staff may edit the table at any time.
    """

    def __init__(self):
        from .models import WorkCalendarYear

        self._confirmed = set(
            WorkCalendarYear.objects.filter(confirmed=True).values_list(
                "year", flat=True
            )
        )
        self._years: dict[int, dict[dt.date, bool]] = {}

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


def calendar_days_for_year(year: int):
    """Every day of ``year`` from ``chinese-calendar``: (date, is_workday, note).

    Raises NotImplementedError for a year the package does not know.
    """
    import chinese_calendar

    day = dt.date(year, 1, 1)
    out = []
    while day.year == year:
        is_workday = chinese_calendar.is_workday(day)
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
        if is_workday and day.weekday() >= 5:
            note = "调休上班"
        elif is_holiday and name:
            note = str(name)
        else:
            note = ""
        out.append((day, is_workday, note))
        day += dt.timedelta(days=1)
    return out


def holiday_guess_for_year(year: int):
    """Every day of ``year`` guessed from ``holidays.China`` plus weekends."""
    names = holidays.China(years=year)
    day = dt.date(year, 1, 1)
    out = []
    while day.year == year:
        out.append((day, guessed_workday(day), str(names.get(day, ""))))
        day += dt.timedelta(days=1)
    return out
