"""The few places where the supervisors' SQL differs between PostgreSQL (the
production database, tuned for a province) and SQLite (``make run``'s
development default, 3.35+: FILTER, window functions, MATERIALIZED, ->>).
One helper per difference; the PostgreSQL text is the text it always was.

- a list parameter: ``= ANY(%(ids)s)`` with a list on PostgreSQL, ``IN (SELECT
  value FROM json_each(%(ids)s))`` with the list as JSON text on SQLite
  (``in_list`` + ``list_param``);
- the local date of a timestamp: ``AT TIME ZONE`` on PostgreSQL; on SQLite the
  timestamps are UTC text, shifted by the project zone's fixed offset (the
  zone must have no daylight saving time: checked) (``local_date``);
- timestamps as parameters: SQLite needs them as UTC text (``db_datetime``);
- casts (``cast``), a JSON field's text (``json_text``);
- the transaction-scoped lock serialising a job's runs: an advisory lock on
  PostgreSQL, nothing on SQLite, which serialises writers itself
  (``xact_lock``);
- a cursor's column names (``column_names``), the rows a statement wrote
  (``rows_written``).
"""

import datetime as dt
import json
import zoneinfo
from functools import cache

from django.db import connection
from django.utils import timezone


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def in_list(column: str, param: str | None = None) -> str:
    """``column`` is one of the list parameter ``param`` (a named parameter;
    ``None``: positional ``%s``). Pass the value through ``list_param``."""
    placeholder = f"%({param})s" if param else "%s"
    if is_postgresql():
        return f"{column} = ANY({placeholder})"
    return f"{column} IN (SELECT value FROM json_each({placeholder}))"


def list_param(values) -> list | str:
    values = list(values)
    return values if is_postgresql() else json.dumps(values)


@cache
def _fixed_offset_minutes(zone_name: str) -> int:
    """The UTC offset of a zone without daylight saving time, in minutes."""
    zone = zoneinfo.ZoneInfo(zone_name)
    offsets = {
        zone.utcoffset(dt.datetime(year, month, 1))
        for year in (2000, 2020, 2030)
        for month in (1, 4, 7, 10)
    }
    if len(offsets) != 1:
        raise NotImplementedError(
            f"local dates on SQLite need a time zone without DST, not {zone_name}"
        )
    return int(offsets.pop().total_seconds() // 60)


def local_date(column: str, tz_param: str = "tz") -> str:
    """The date of the timestamp ``column`` in the project's time zone (whose
    name is the parameter ``tz_param`` on PostgreSQL)."""
    if is_postgresql():
        return f"({column} AT TIME ZONE %({tz_param})s)::date"
    minutes = _fixed_offset_minutes(str(timezone.get_default_timezone()))
    return f"date({column}, '{minutes:+d} minutes')"


def db_datetime(value):
    """A timestamp parameter as the database compares it with its columns
    (PostgreSQL: unchanged; SQLite: UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def cast(expression: str, kind: str) -> str:
    """``expression`` as ``kind``: "numeric" or "int"."""
    if is_postgresql():
        return f"({expression})::{kind}"
    return f"CAST({expression} AS {'REAL' if kind == 'numeric' else 'INTEGER'})"


def json_text(column: str, *path: str) -> str:
    """The text at ``path`` in the JSON column ``column``."""
    if is_postgresql():
        *parents, last = (f"'{key}'" for key in path)
        return "".join([column, *(f" -> {key}" for key in parents), f" ->> {last}"])
    return f"{column} ->> '$.{'.'.join(path)}'"


def xact_lock(cursor, lock_class: int, key: int) -> None:
    """Serialise the runs of a job for ``key`` until the transaction ends."""
    if is_postgresql():
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [lock_class, key])


def column_names(cursor) -> list[str]:
    return [column[0] for column in cursor.description]


def rows_written(cursor) -> int:
    """The rows the cursor's last INSERT/UPDATE/DELETE wrote. Python's sqlite3
    gives no rowcount for a statement opening with WITH: asked of SQLite."""
    if cursor.rowcount >= 0 or is_postgresql():
        return cursor.rowcount
    cursor.execute("SELECT changes()")
    return cursor.fetchone()[0]
