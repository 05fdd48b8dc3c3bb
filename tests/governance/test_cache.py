"""The Redis cache degrades to "missing" while Redis is unreachable."""

import pytest
from django.core.cache.backends.redis import RedisCache

from governance.cache import ResilientRedisCache
from tickets.services.selfreport import self_report_rate_check


def _unreachable_cache():
    # Nothing listens on port 1: every command fails to connect.
    return ResilientRedisCache(
        "redis://127.0.0.1:1/0",
        {"OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}},
    )


def test_reads_miss_and_writes_are_dropped_while_redis_is_down(monkeypatch):
    # The warning itself, whatever state other tests left the logging config in.
    warnings = []
    monkeypatch.setattr(
        "governance.cache.logger.warning", lambda *args: warnings.append(args)
    )
    cache = _unreachable_cache()
    assert cache.get("k") is None
    assert cache.get("k", "fallback") == "fallback"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.add("k", 1) is False
    assert cache.set("k", 1) is None
    assert cache.delete("k") is False
    assert cache.has_key("k") is False
    with pytest.raises(ValueError):
        cache.incr("k")
    assert warnings and all(w[0].startswith("Cache unreachable") for w in warnings)


def test_django_s_own_backend_would_fail_the_page():
    """The reason for the wrapper: the plain backend raises."""
    plain = RedisCache(
        "redis://127.0.0.1:1/0",
        {"OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}},
    )
    with pytest.raises(Exception):  # noqa: B017 - redis' ConnectionError
        plain.get("k")


def test_the_public_report_rate_limit_fails_open_while_redis_is_down(monkeypatch):
    from tickets.services import selfreport

    monkeypatch.setattr(selfreport, "cache", _unreachable_cache())
    for _ in range(10):  # more than any limit: nothing is counted, nothing fails
        self_report_rate_check(client_ip="203.0.113.9", phone="13800138000")
