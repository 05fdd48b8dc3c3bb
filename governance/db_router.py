"""Reads of pages to a PostgreSQL read replica, everything else to the primary.

With ``DATABASE_REPLICA_URL`` set, settings add a ``replica`` alias and this
router. A read goes to the replica only when all of these hold:

- it happens inside ``replica_reads()``, which ``ReplicaReadsMiddleware`` opens
  around GET and HEAD requests when ``DATABASE_REPLICA_READS`` is on (it is,
  whenever ``DATABASE_REPLICA_URL`` is set) (lists, dashboards, detail pages); POSTs, Celery
  jobs and management commands never open it, so services, periodic jobs and
  imports read and write the primary only;
- no transaction is open on the primary: a read inside ``transaction.atomic()``
  (every service; every ``select_for_update``) must see the primary's rows, its
  own writes included, so it stays there;
- the browser did not write in the last ``REPLICA_PIN_SECONDS`` (the middleware
  sets a short cookie after a POST), so the page shown after "save" is never
  older than the save because of replication lag.

Writes always go to the primary; migrations run there only (the replica is a
physical copy of it).
"""

import contextlib
import contextvars
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from grids.db import web_timeouts_for_request

REPLICA_ALIAS = "replica"
PIN_COOKIE = "gw_primary_until"

_replica_allowed = contextvars.ContextVar("gridwork_replica_reads", default=False)


@contextlib.contextmanager
def replica_reads(allowed: bool = True):
    """Let reads outside transactions in this block go to the replica."""
    token = _replica_allowed.set(allowed)
    try:
        yield
    finally:
        _replica_allowed.reset(token)


def replica_configured() -> bool:
    return REPLICA_ALIAS in connections.settings


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _replica_allowed.get() or not replica_configured():
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same rows.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class ReplicaReadsMiddleware:
    """Reads of GET/HEAD requests may use the replica (see the module); a
    request that writes pins the browser to the primary for a few seconds."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        enabled = settings.DATABASE_REPLICA_READS and replica_configured()
        safe = request.method in ("GET", "HEAD")
        use_replica = enabled and safe and not _pinned(request)
        with contextlib.ExitStack() as stack:
            stack.enter_context(replica_reads(use_replica))
            if use_replica:
                # The replica's connection gets the same web limits as the primary's.
                stack.enter_context(web_timeouts_for_request(REPLICA_ALIAS))
            response = self.get_response(request)
        if enabled and not safe:
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                str(int(time.time()) + seconds),
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


def _pinned(request) -> bool:
    try:
        return int(request.COOKIES.get(PIN_COOKIE, "0")) > time.time()
    except ValueError:
        return False
