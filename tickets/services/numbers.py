"""Readable ticket numbers (工单编号): the year of receipt in China's time zone
and a sequence of that year, ``2026-000123``.

The sequence lives in one counter row per year, taken and incremented by one
statement (``INSERT … ON CONFLICT DO UPDATE … RETURNING``, PostgreSQL and SQLite
alike), which locks the row: two intakes at once never get the same number; the
lock is held until the intake's transaction ends, and a rolled-back intake gives
its number back.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import connection

from ..models import TicketNumberCounter

NUMBER_TIME_ZONE = ZoneInfo("Asia/Shanghai")


def format_ticket_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"


def number_year(received_at: dt.datetime) -> int:
    return received_at.astimezone(NUMBER_TIME_ZONE).year


def next_ticket_number(received_at: dt.datetime) -> str:
    """Take the next number of the year ``received_at`` falls in."""
    year = number_year(received_at)
    table = connection.ops.quote_name(TicketNumberCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (year, last) VALUES (%s, 1)"
            f" ON CONFLICT (year) DO UPDATE SET last = {table}.last + 1"
            " RETURNING last",
            [year],
        )
        (last,) = cursor.fetchone()
    return format_ticket_number(year, last)
