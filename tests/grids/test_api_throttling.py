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
