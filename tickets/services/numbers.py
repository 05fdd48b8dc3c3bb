"""Readable ticket numbers (工单编号): the year of receipt in China's time zone
and a sequence of that year, ``2026-000123``.

On PostgreSQL each year has its own sequence (``tickets_number_2026``):
``nextval`` takes a number without a lock, so intakes from every channel (the
API, 12345 pushes, phone pages, Open311) never wait for one another, however
long the transaction around each one lasts. A number is never given twice; an
intake that is refused after taking one (a repeated 12345 push caught by its
unique number, a transaction rolled back) leaves a gap, as sequences do.

A year's sequence is made the first time a number of that year is taken
(``ensure_year``), on a connection of its own and committed at once (so a
rolled-back intake cannot take it away again), starting after the year's
counter row if one is there. The counter rows (``TicketNumberCounter``) are
where the numbers lived before the sequences, and still are on SQLite (the
development default), where one statement (``INSERT … ON CONFLICT DO UPDATE …
RETURNING``) takes and increments the year's row: SQLite writes one
transaction at a time anyway.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import DEFAULT_DB_ALIAS, connection, connections

from ..models import TicketNumberCounter

NUMBER_TIME_ZONE = ZoneInfo("Asia/Shanghai")
SEQUENCE_PREFIX = "tickets_number_"
# Any constant: serialises the making of a year's sequence across processes.
_MAKE_LOCK = 0x7469636B  # "tick"
# (database name, year) of the sequences known to exist, a process (a set's
# add is atomic: threads need no lock; at worst two make sure of one year).
_years_ready: set[tuple[str, int]] = set()


def format_ticket_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"


def number_year(received_at: dt.datetime) -> int:
    return received_at.astimezone(NUMBER_TIME_ZONE).year


def sequence_name(year: int) -> str:
    return f"{SEQUENCE_PREFIX}{year:d}"


def uses_sequences() -> bool:
    return connection.vendor == "postgresql"


def ensure_year(year: int) -> str:
    """The name of the year's sequence (PostgreSQL), made if it is not there.

    Made (or found) on a connection of its own, never looked up first on the
    caller's: PostgreSQL caches a name it did not find for the rest of the
    transaction, so a lookup before the sequence is made would keep missing
    it."""
    name = sequence_name(year)
    key = (connection.settings_dict["NAME"], year)
    if key not in _years_ready:
        _make_sequence(year)
        _years_ready.add(key)
    return name


def _make_sequence(year: int) -> None:
    """The year's sequence unless it is there, on a connection of its own in
    autocommit (the caller's transaction may still roll back), starting after
    the year's counter row. Two processes at once: the advisory lock lets one
    make it, the other then finds it."""
    current = connections[DEFAULT_DB_ALIAS]
    own = type(current)(current.settings_dict, current.alias)
    table = own.ops.quote_name(TicketNumberCounter._meta.db_table)
    try:
        own.set_autocommit(True)
        with own.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_MAKE_LOCK])
            try:
                cursor.execute("SELECT to_regclass(%s)", [sequence_name(year)])
                if cursor.fetchone()[0] is None:
                    cursor.execute(f"SELECT last FROM {table} WHERE year = %s", [year])
                    row = cursor.fetchone()
                    cursor.execute(
                        "CREATE SEQUENCE IF NOT EXISTS"
                        f" {own.ops.quote_name(sequence_name(year))}"
                        " AS bigint START WITH %s",
                        [(row[0] if row else 0) + 1],
                    )
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_MAKE_LOCK])
    finally:
        own.close()


def next_ticket_number(received_at: dt.datetime) -> str:
    """Take the next number of the year ``received_at`` falls in."""
    year = number_year(received_at)
    with connection.cursor() as cursor:
        if uses_sequences():
            cursor.execute("SELECT nextval(%s::regclass)", [ensure_year(year)])
        else:
            table = connection.ops.quote_name(TicketNumberCounter._meta.db_table)
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
    body = "SELECT nextval(%s::regclass) AS last"
    # ``{sequence:06d}``: zero-padded to six digits, longer when it is longer.
    number = (
        f"(SELECT '{year:d}-' || CASE WHEN last < 1000000"
        " THEN lpad(last::text, 6, '0') ELSE last::text END FROM number_taken)"
    )
    return body, [ensure_year(year)], number


def set_year_last(year: int, last: int) -> None:
    """Make ``last`` the year's last number given (the next is ``last + 1``):
    for imports of old tickets and for tests."""
    if uses_sequences():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(%s::regclass, %s, %s)",
                [ensure_year(year), max(last, 1), last >= 1],
            )
        return
    TicketNumberCounter.objects.update_or_create(year=year, defaults={"last": last})
