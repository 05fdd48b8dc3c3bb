"""How long a web request may wait on the database, and what the user is told when
it waited too long.

A web request (never a Celery job or a command) waits at most
``WEB_DB_LOCK_TIMEOUT_MS`` for a row lock and runs one statement at most
``WEB_DB_STATEMENT_TIMEOUT_MS`` (PostgreSQL ``lock_timeout`` and
``statement_timeout``, set by ``governance.middleware.DatabaseTimeoutsMiddleware``
before a request's first statement). A lock wait that runs out is the error
``RecordBusy``: a 409 with "this record is busy, try again", never a 500, and the
service's transaction is rolled back, so nothing is half-written.
"""

from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.utils.translation import gettext as _

from .errors import Conflict

# PostgreSQL error codes (SQLSTATE).
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout ran out, or NOWAIT
QUERY_CANCELED = "57014"  # statement_timeout ran out


class RecordBusy(Conflict):
    """Another transaction holds the row and did not let go in time."""

    code = "busy"
    status = 409


class RequestTooSlow(Conflict):
    """One statement of a web request ran longer than the web limit."""

    code = "too_slow"
    status = 503


def busy_error() -> RecordBusy:
    return RecordBusy(
        _(
            "This record is being changed by someone else right now. "
            "Nothing was saved: please try again in a moment."
        )
    )


def too_slow_error() -> RequestTooSlow:
    return RequestTooSlow(
        _(
            "The database took too long to answer. Nothing was saved: please try "
            "again, or narrow the list."
        )
    )


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error Django wrapped (psycopg 2 or 3), or None."""
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def is_lock_timeout(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and sqlstate(exc) == LOCK_NOT_AVAILABLE


def is_statement_timeout(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and sqlstate(exc) == QUERY_CANCELED


def as_domain_error(exc: BaseException) -> Conflict | None:
    """``RecordBusy`` or ``RequestTooSlow`` for a timed-out database error."""
    if is_lock_timeout(exc):
        return busy_error()
    if is_statement_timeout(exc):
        return too_slow_error()
    return None


@contextmanager
def busy_on_lock_timeout():
    """Turn a lock wait that ran out into ``RecordBusy`` (a DomainError the pages,
    the admin and the API already show). Use it around the lock a service takes,
    inside the service's ``transaction.atomic()`` so that the transaction is
    rolled back on the way out."""
    try:
        yield
    except OperationalError as exc:
        error = as_domain_error(exc)
        if error is None:
            raise
        raise error from exc


def web_timeouts() -> tuple[int, int]:
    """(lock timeout, statement timeout) in milliseconds; 0 means no limit."""
    return (
        int(getattr(settings, "WEB_DB_LOCK_TIMEOUT_MS", 3000)),
        int(getattr(settings, "WEB_DB_STATEMENT_TIMEOUT_MS", 30000)),
    )


def apply_web_timeouts(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Set the web limits on this thread's connection now (PostgreSQL only; a
    no-op elsewhere). Session-level, so they hold for the rest of the request in
    autocommit mode; the connection then serves only web requests of this
    process. Returns whether they were set.

    This is connection set-up, like Django's own time-zone setting, so it runs on
    the driver's cursor and stays out of the request's query log."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    connection.ensure_connection()
    _set_timeouts(connection)
    return True


def _set_timeouts(connection) -> None:
    lock_ms, statement_ms = web_timeouts()
    with connection.connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, false), "
            "set_config('statement_timeout', %s, false)",
            [f"{lock_ms}ms", f"{statement_ms}ms"],
        )


class _TimeoutsBeforeFirstQuery:
    """An execute wrapper: sets the web limits just before the request's first
    statement, so a request that never touches the database opens no connection.

    A persistent connection (``CONN_MAX_AGE``) keeps session settings: limits
    set in autocommit mode (committed at once) are noted on the connection, and
    the next request on the same driver connection with the same limits skips
    the round trip. Set inside a transaction they could still be rolled back,
    so they are not noted and the next request sets them again."""

    def __init__(self, connection):
        self.connection = connection
        self.done = False

    def __call__(self, execute, sql, params, many, context):
        if not self.done:
            self.done = True
            wanted = web_timeouts()
            raw = self.connection.connection
            noted = getattr(self.connection, "_web_timeouts_set", None)
            if noted is None or noted[0] is not raw or noted[1] != wanted:
                self.connection._web_timeouts_set = None
                _set_timeouts(self.connection)
                if self.connection.get_autocommit():
                    self.connection._web_timeouts_set = (raw, wanted)
        return execute(sql, params, many, context)


@contextmanager
def web_timeouts_for_request(using: str = DEFAULT_DB_ALIAS):
    """Within the block, the connection's first statement is preceded by the web
    limits (PostgreSQL only)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with connection.execute_wrapper(_TimeoutsBeforeFirstQuery(connection)):
        yield
