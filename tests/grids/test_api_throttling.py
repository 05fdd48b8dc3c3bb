"""Throttles count per API token (two tokens of one account count apart),
writes have their own lower rate, and a throttled request is a 429 in the
error format with ``retry_after``."""

import pytest
from rest_framework.test import APIClient

from tests.api_client import token_client, token_for

pytestmark = pytest.mark.django_db
REGIONS = "/api/v1/regions/"


@pytest.fixture(autouse=True)
def _rates(settings):
    from django.core.cache import cache

    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "3/min", "write": "1/min", "anon": "2/min"},
    }
    yield
    cache.clear()


def test_token_is_throttled_with_retry_after(community_staff):
    client = token_client(community_staff)
    for _ in range(3):
        assert client.get(REGIONS).status_code == 200
    response = client.get(REGIONS)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled"
    assert body["extra"]["retry_after"] > 0
    assert "Retry-After" in response


def test_each_token_counts_apart(community_staff):
    first, second = token_client(community_staff), token_client(community_staff)
    for _ in range(3):
        first.get(REGIONS)
    assert first.get(REGIONS).status_code == 429
    assert second.get(REGIONS).status_code == 200


def test_writes_have_their_own_rate(grid_worker, tree):
    client = token_client(grid_worker)
    body = {"region": tree["grids"][0].pk, "kind": "patrol", "notes": "正常"}
    assert client.post("/api/v1/patrols/", body, format="json").status_code == 201
    response = client.post("/api/v1/patrols/", body, format="json")
    assert response.status_code == 429
    # Reads still pass.
    assert client.get(REGIONS).status_code == 200


def test_anonymous_requests_are_throttled_by_address():
    # The schema is open to all: anonymous requests reach the throttle (the
    # resources refuse them before, with a 401).
    import json

    client = APIClient()
    url = "/api/schema/?format=json"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    response = client.get(url)
    assert response.status_code == 429
    assert json.loads(response.content)["code"] == "throttled"


def test_session_user_is_counted_too(community_staff):
    client = APIClient()
    client.force_login(community_staff)
    for _ in range(3):
        assert client.get(REGIONS).status_code == 200
    assert client.get(REGIONS).status_code == 429
    # A token of the same account counts on its own.
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {token_for(community_staff)}")
    assert other.get(REGIONS).status_code == 200


# --- the window counting (grids.api.throttling.WindowRateThrottle) -----------------


@pytest.fixture(params=["locmem", "redis"])
def counting_cache(request, monkeypatch):
    """The throttles' cache: this process's memory (the tests' settings), and
    Redis at REDIS_URL (make test and CI set it), one pipeline a request."""
    import os

    from django.core.cache.backends.locmem import LocMemCache

    from governance.cache import ResilientRedisCache
    from grids.api import throttling

    if request.param == "locmem":
        counting = LocMemCache("throttle-tests", {})
    else:
        url = os.environ.get("REDIS_URL")
        if not url:
            pytest.skip("REDIS_URL is not set (make test and CI set it)")
        counting = ResilientRedisCache(url, {"KEY_PREFIX": "throttle-tests"})
    counting.clear()
    monkeypatch.setattr(throttling, "cache", counting)
    yield counting
    counting.clear()


def _rate(rate, *scopes):
    from django.conf import settings
    from django.test import override_settings

    return override_settings(
        REST_FRAMEWORK={
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": dict.fromkeys(scopes or ["three"], rate),
        }
    )


class _Request:
    """What a throttle reads of a request."""

    def __init__(self, user, method="GET"):
        self.user, self.auth, self.method = user, None, method
        self.META = {"REMOTE_ADDR": "203.0.113.7"}


def _throttle(rate="3/min"):
    from grids.api.throttling import TokenRateThrottle

    class Three(TokenRateThrottle):
        def scopes(self, request):
            return ["three"]

    return Three()


def _allowed(user, at):
    import time_machine

    with time_machine.travel(at, tick=False), _rate("3/min"):
        throttle = _throttle()
        return throttle.allow_request(_Request(user), None), throttle.wait()


def test_the_previous_window_slides_out(community_staff, counting_cache):
    """3/min: a full minute refuses the next request at the start of the
    following window, and lets it through once two thirds of the full one have
    slid out of the last 60 seconds."""
    start = 1_800_000_000.0  # a window boundary (a multiple of 60)
    for n in range(3):
        assert _allowed(community_staff, start + n)[0]
    allowed, wait = _allowed(community_staff, start + 5)
    assert not allowed and wait == 55  # this window alone is full: its end
    allowed, wait = _allowed(community_staff, start + 60)
    # 3 × 1 + 1 > 3; one more fits when 3 × (1 - t/60) + 1 <= 3, t >= 20.
    assert not allowed and wait == 20
    assert not _allowed(community_staff, start + 79)[0]
    assert _allowed(community_staff, start + 80)[0]


def test_a_refused_request_is_not_counted(community_staff, counting_cache):
    start = 1_800_000_000.0
    for n in range(3):
        assert _allowed(community_staff, start + n)[0]
    for n in range(20):  # refused over and over: nothing more is counted
        assert not _allowed(community_staff, start + 3 + n)[0]
    # 3 counted in the previous window, not 23: at 40 s 3 × 1/3 + 1 <= 3.
    assert _allowed(community_staff, start + 100)[0]


def test_redis_counts_in_one_pipeline_a_request(community_staff, counting_cache):
    from grids.api import throttling
    from grids.api.throttling import TokenRateThrottle

    if throttling._redis_client() is None:
        pytest.skip("the locmem case")
    sent = []
    pipeline_class = type(throttling._redis_client().pipeline())
    real_execute = pipeline_class.execute

    def execute(self, *args, **kwargs):
        sent.append([command[0][0] for command in self.command_stack])
        return real_execute(self, *args, **kwargs)

    pipeline_class.execute = execute
    try:
        with _rate("1000/min", "user", "write"):
            for method in ["GET"] * 25 + ["POST"] * 25:
                request = _Request(community_staff, method)
                assert TokenRateThrottle().allow_request(request, None)
    finally:
        pipeline_class.execute = real_execute
    one = ["INCRBY", "EXPIRE", "GET"]
    assert sent == [one] * 25 + [one * 2] * 25  # a write counts as user and write


def test_the_throttles_let_requests_through_while_redis_is_down(
    community_staff, monkeypatch
):
    from grids.api import throttling
    from tests.governance.test_cache import _unreachable_cache

    monkeypatch.setattr(throttling, "cache", _unreachable_cache())
    with _rate("3/min"):
        for _ in range(10):  # more than the rate of 3: nothing counted, nothing fails
            assert _throttle().allow_request(_Request(community_staff), None)
