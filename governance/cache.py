"""The cache backend: Django's Redis cache that degrades instead of failing.

Pages must work while Redis is down (SECURITY.md, "Faults"). The cache holds
nothing that cannot be lost (rate-limit counters of the public report form), so
while the server is unreachable every key reads as missing and writes are
dropped, with a warning in the log, instead of turning the page into a 500.
A rate limit therefore counts from zero during an outage (it fails open).
"""

import functools
import logging

from django.core.cache.backends.redis import RedisCache

from grids.cache_faults import UNREACHABLE

logger = logging.getLogger(__name__)


def _degrade(missing):
    """Wrap a cache method: when Redis is unreachable, log and answer as if the
    key(s) did not exist (``missing(args, kwargs)`` gives that answer)."""

    def wrap(method):
        @functools.wraps(method)
        def degraded(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE as exc:
                logger.warning(
                    "Cache unreachable (%s) in %s: treated as missing",
                    type(exc).__name__,
                    method.__name__,
                )
                return missing(args, kwargs)

        return degraded

    return wrap


def _default(args, kwargs):
    return kwargs.get("default", args[1] if len(args) > 1 else None)


def _raise_missing(args, kwargs):
    raise ValueError(f"Key {args[0]!r} not found (cache unreachable)")


class ResilientRedisCache(RedisCache):
    get = _degrade(_default)(RedisCache.get)
    get_many = _degrade(lambda args, kwargs: {})(RedisCache.get_many)
    has_key = _degrade(lambda args, kwargs: False)(RedisCache.has_key)
    add = _degrade(lambda args, kwargs: False)(RedisCache.add)
    set = _degrade(lambda args, kwargs: None)(RedisCache.set)
    set_many = _degrade(lambda args, kwargs: list(args[0]))(RedisCache.set_many)
    touch = _degrade(lambda args, kwargs: False)(RedisCache.touch)
    delete = _degrade(lambda args, kwargs: False)(RedisCache.delete)
    delete_many = _degrade(lambda args, kwargs: None)(RedisCache.delete_many)
    # As Django does for a missing key: incr/decr raise ValueError.
    incr = _degrade(_raise_missing)(RedisCache.incr)
    decr = _degrade(_raise_missing)(RedisCache.decr)
    clear = _degrade(lambda args, kwargs: False)(RedisCache.clear)
