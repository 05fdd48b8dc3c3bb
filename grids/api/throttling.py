"""Request rates for the API, counted in the shared cache (Redis in production,
so every server process counts together; ``CACHES``).

- ``TokenRateThrottle``: each API token on its own, else each signed-in
  account; every request counts against the ``user`` rate, and POST, PUT,
  PATCH and DELETE against the ``write`` rate too (writes cost more than
  reads);
- ``AnonRateThrottle`` (scope ``anon``): by client address.

The rates are settings (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``, from the
environment: ``API_THROTTLE_USER``, ``API_THROTTLE_WRITE``, ``API_THROTTLE_ANON``),
read when a request comes, so a changed setting holds at once. A refused
request is a 429 ``throttled`` with ``extra.retry_after`` in seconds.

How they count: a sliding window estimated from two fixed windows (the count of
this window plus the previous one's, weighted by how much of it still lies in
the last period), one counter a window. DRF's own throttles keep every
request's time in one cache value, read and written whole by each request: at
the rates an integration sends (hundreds a second) that list is thousands long
and costs milliseconds a request. Here a request is one round trip to Redis
(``INCR``, ``EXPIRE``, ``GET`` of each of its scopes in one pipeline) whatever
the rate; a refused request gives its counts back, as DRF does not count it.
While Redis is down the throttles let requests through, as the cache does
(``governance.cache``).
"""

import contextlib
import math
import time
from typing import NamedTuple

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from grids.cache_faults import UNREACHABLE
from grids.models import ApiToken


class _Window(NamedTuple):
    """One rate a request counts against, at this moment."""

    limit: int
    period: int
    elapsed: float  # seconds into the current window
    key: str  # the current window's counter
    previous_key: str


class WindowRateThrottle(BaseThrottle):
    """The counting; a subclass says which scopes a request counts against
    (``scopes``) and whose it is (``ident``)."""

    def scopes(self, request) -> list[str]:
        raise NotImplementedError

    def ident(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view):
        self.retry_after = None
        ident = self.ident(request)
        rates = api_settings.DEFAULT_THROTTLE_RATES
        now = time.time()
        windows = []
        for scope in self.scopes(request) if ident is not None else ():
            if rates.get(scope) is None:
                continue
            limit, period = parse_rate(rates[scope])
            window = int(now // period)
            prefix = f"throttle:{scope}:{ident}:{period}"
            windows.append(
                _Window(
                    limit,
                    period,
                    now - window * period,
                    f"{prefix}:{window}",
                    f"{prefix}:{window - 1}",
                )
            )
        if not windows:
            return True
        try:
            counts = _count([(w.key, w.previous_key, w.period) for w in windows])
        except UNREACHABLE:
            return True
        waits = [
            _retry_after(w.limit, current - 1, previous, w.period, w.elapsed)
            for w, (current, previous) in zip(windows, counts, strict=True)
            if previous * (1 - w.elapsed / w.period) + current > w.limit
        ]
        if not waits:
            return True
        with contextlib.suppress(*UNREACHABLE):
            _give_back([w.key for w in windows])
        self.retry_after = max(waits)
        return False

    def wait(self):
        return self.retry_after


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` → (600, 60), as DRF reads a rate."""
    number, period = rate.split("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
    return int(number), seconds


def _retry_after(limit, current, previous, period, elapsed) -> float:
    """Seconds until one more request fits: when this window alone is full,
    its end; else when enough of the previous window has slid out."""
    if current >= limit or previous <= 0:
        return max(1.0, math.ceil(period - elapsed - 1e-9))
    # previous * (1 - t / period) + current + 1 <= limit
    needed = period * (1 - (limit - current - 1) / previous)
    return max(1.0, math.ceil(needed - elapsed - 1e-9))


def _redis_client():
    """The redis-py client behind Django's Redis cache, or None for another
    backend."""
    backend = getattr(cache, "_cache", None)
    get_client = getattr(backend, "get_client", None)
    return get_client(write=True) if get_client is not None else None


def _count(keys: list[tuple[str, str, int]]) -> list[tuple[int, int]]:
    """This request counted in each current window: for each (current key,
    previous key, period), (its count now, the previous window's). Redis: one
    pipeline for them all."""
    client = _redis_client()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        for current_key, previous_key, period in keys:
            made = cache.make_and_validate_key(current_key)
            pipe.incr(made)
            pipe.expire(made, 2 * period)
            pipe.get(cache.make_and_validate_key(previous_key))
        answers = pipe.execute()
        return [
            (int(answers[n]), int(answers[n + 2] or 0))
            for n in range(0, len(answers), 3)
        ]
    # Another backend (LocMemCache in development): add, then increment.
    counts = []
    for current_key, previous_key, period in keys:
        cache.add(current_key, 0, 2 * period)
        try:
            current = cache.incr(current_key)
        except ValueError:  # expired between the two calls
            cache.add(current_key, 1, 2 * period)
            current = 1
        counts.append((current, int(cache.get(previous_key) or 0)))
    return counts


def _give_back(current_keys: list[str]) -> None:
    client = _redis_client()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        for key in current_keys:
            pipe.decr(cache.make_and_validate_key(key))
        pipe.execute()
        return
    for key in current_keys:
        with contextlib.suppress(ValueError):
            cache.decr(key)


class TokenRateThrottle(WindowRateThrottle):
    """Scope ``user`` for every request, and ``write`` as well for POST, PUT,
    PATCH and DELETE: both counted in one round trip."""

    def scopes(self, request):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return ["user"]
        return ["user", "write"]

    def ident(self, request):
        if isinstance(request.auth, ApiToken):
            return f"token-{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"user-{request.user.pk}"
        return None  # AnonRateThrottle counts these


class AnonRateThrottle(WindowRateThrottle):
    def scopes(self, request):
        return ["anon"]

    def ident(self, request):
        if request.user and request.user.is_authenticated:
            return None
        return self.get_ident(request)
