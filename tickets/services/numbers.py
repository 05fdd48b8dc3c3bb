"""Readable ticket numbers (工单编号): the year of receipt in China's time zone
and a sequence of that year, ``2026-000123``.

The sequence lives in one counter row per year, locked while a number is taken,
so two intakes at once never get the same number (PostgreSQL and SQLite alike);
the lock is held until the intake's transaction ends, and a rolled-back intake
gives its number back.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import transaction

from ..models import TicketNumberCounter

NUMBER_TIME_ZONE = ZoneInfo("Asia/Shanghai")


def format_ticket_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"


def number_year(received_at: dt.datetime) -> int:
    return received_at.astimezone(NUMBER_TIME_ZONE).year


def next_ticket_number(received_at: dt.datetime) -> str:
    """Take the next number of the year ``received_at`` falls in."""
    year = number_year(received_at)
    with transaction.atomic():
        TicketNumberCounter.objects.get_or_create(year=year)
        counter = TicketNumberCounter.objects.select_for_update().get(year=year)
        counter.last += 1
        counter.save(update_fields=["last"])
    return format_ticket_number(year, counter.last)
