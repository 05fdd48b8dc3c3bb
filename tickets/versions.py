"""The versions of the reference data a process keeps in memory: the working
calendar (``workcalendar``) and the region tree's paths (``places``).

Each is a one-row table that a statement trigger sets to a new value of a
sequence in the transaction of any change to its source tables (migrations 0011
and 0014), whoever writes it: the services, the admin, a data fix in SQL. A
sequence value is never given twice, even by a transaction rolled back, so a
version names one state of the tables, and a process may keep what it read at
a version for as long as the version stays the same. One primary-key read
gives both (``SQL``).

A service that needs both (a ticket's intake: the place's path, then the
deadline) reads them once for the whole call inside ``pinned()``. Elsewhere
each use reads them. Where the database keeps no versions (SQLite: ``make
run``) both are None and nothing is cached.
"""

import contextlib
import contextvars
from typing import NamedTuple

from django.db import connection

from grids import prepared

SQL = (
    "SELECT c.version, r.version FROM tickets_calendar_version c"
    " CROSS JOIN tickets_region_version r WHERE c.id = 1 AND r.id = 1"
)


class Versions(NamedTuple):
    calendar: int | None
    regions: int | None


UNKNOWN = Versions(None, None)

# Inside ``pinned()``: a one-item list holding the versions once read.
_pinned: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "tickets_versions_pinned", default=None
)


def _read() -> Versions:
    if connection.vendor != "postgresql":
        return UNKNOWN
    with connection.cursor() as cursor:
        prepared.execute(cursor, SQL)
        row = cursor.fetchone()
    return Versions(*row) if row else UNKNOWN


def current() -> Versions:
    """The versions now: one query, or none inside ``pinned()`` once read."""
    pinned = _pinned.get()
    if pinned is None:
        return _read()
    if not pinned:
        pinned.append(_read())
    return pinned[0]


@contextlib.contextmanager
def pinned():
    """Read the versions at most once in the block (one service call). A change
    committed by another process meanwhile is seen by the next call."""
    if _pinned.get() is not None:
        yield
        return
    token = _pinned.set([])
    try:
        yield
    finally:
        _pinned.reset(token)
