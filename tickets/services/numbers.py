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


def next_ticket_number_sql(received_at: dt.datetime) -> tuple[str, list, str]:
    """``next_ticket_number`` as parts of a larger statement (PostgreSQL; the
    intake's one statement, ``intake._insert_ticket_and_event``): the body of a
    CTE that takes the number, its parameters, and an expression giving the
    number as ``format_ticket_number`` writes it from a CTE of that body named
    ``number_taken``."""
    year = number_year(received_at)
    table = connection.ops.quote_name(TicketNumberCounter._meta.db_table)
    body = (
        f"INSERT INTO {table} (year, last) VALUES (%s, 1)"
        f" ON CONFLICT (year) DO UPDATE SET last = {table}.last + 1"
        " RETURNING last"
    )
    # ``{sequence:06d}``: zero-padded to six digits, longer when it is longer.
    number = (
        f"(SELECT '{year:d}-' || CASE WHEN last < 1000000"
        " THEN lpad(last::text, 6, '0') ELSE last::text END FROM number_taken)"
    )
    return body, [year], number
