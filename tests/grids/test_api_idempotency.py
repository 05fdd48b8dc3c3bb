"""``Idempotency-Key`` on API POSTs: the same key and body replay the first
answer, another body is a 409, a refused request keeps nothing, keys are per
account, and two requests at once with one key make one record."""

import threading
import uuid

import pytest
from django.db import connection

from grids.choices import PatrolKind, UserRole
from grids.models import IdempotencyKey, Patrol
from tests.api_client import token_client, token_for
from tests.grids.factories import UserFactory

PATROLS = "/api/v1/patrols/"


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()


def _body(tree, notes="巡查正常"):
    return {"region": tree["grids"][0].pk, "kind": PatrolKind.PATROL, "notes": notes}


@pytest.mark.django_db
def test_same_key_same_body_replays_the_first_answer(grid_worker, tree):
    client = token_client(grid_worker)
    key = str(uuid.uuid4())
    first = client.post(PATROLS, _body(tree), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201
    # The same JSON with its keys in another order is the same request.
    body = dict(reversed(list(_body(tree).items())))
    second = client.post(PATROLS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Patrol.objects.count() == 1


@pytest.mark.django_db
def test_same_key_other_body_is_409(grid_worker, tree):
    client = token_client(grid_worker)
    key = str(uuid.uuid4())
    client.post(PATROLS, _body(tree), format="json", HTTP_IDEMPOTENCY_KEY=key)
    response = client.post(
        PATROLS, _body(tree, notes="另一条"), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert Patrol.objects.count() == 1


@pytest.mark.django_db
def test_same_key_on_another_endpoint_is_409(grid_worker, tree):
    client = token_client(grid_worker)
    key = str(uuid.uuid4())
    client.post(PATROLS, _body(tree), format="json", HTTP_IDEMPOTENCY_KEY=key)
    response = client.post(
        "/api/v1/tickets/",
        {"source": "patrol", "region": tree["grids"][0].pk, "description": "x"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 409


@pytest.mark.django_db
def test_refused_request_keeps_nothing_and_can_be_corrected(grid_worker, tree):
    client = token_client(grid_worker)
    key = str(uuid.uuid4())
    # Outside the worker's grid: refused, nothing kept.
    bad = {**_body(tree), "region": tree["grids"][2].pk}
    response = client.post(PATROLS, bad, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "region" in response.json()["extra"]["fields"]
    assert not IdempotencyKey.objects.exists()
    good = client.post(PATROLS, _body(tree), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert good.status_code == 201


@pytest.mark.django_db
def test_keys_are_per_account(grid_worker, tree):
    other = UserFactory(
        role=UserRole.GRID_WORKER, region=tree["grids"][0], is_staff=False
    )
    key = str(uuid.uuid4())
    one = token_client(grid_worker).post(
        PATROLS, _body(tree), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    two = token_client(other).post(
        PATROLS, _body(tree), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] != two.json()["id"]
    assert "Idempotent-Replayed" not in two


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key", ["short", "x" * 65, "has space here", "键键键键键键键键"]
)
def test_malformed_key_is_400(grid_worker, tree, key):
    response = token_client(grid_worker).post(
        PATROLS,
        _body(tree),
        format="json",
        HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_idempotency_key"
    assert not Patrol.objects.exists()


@pytest.mark.django_db
def test_without_a_key_each_post_counts(grid_worker, tree):
    client = token_client(grid_worker)
    client.post(PATROLS, _body(tree), format="json")
    client.post(PATROLS, _body(tree), format="json")
    assert Patrol.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_posts_at_once_with_one_key_make_one_patrol(tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for concurrent transactions")
    worker = UserFactory(
        role=UserRole.GRID_WORKER, region=tree["grids"][0], is_staff=False
    )
    api_key = token_for(worker)
    key = str(uuid.uuid4())
    barrier = threading.Barrier(2)
    answers = []

    def post():
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_key}")
        barrier.wait()
        try:
            answers.append(
                client.post(
                    PATROLS, _body(tree), format="json", HTTP_IDEMPOTENCY_KEY=key
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert Patrol.objects.count() == 1
    assert sorted(a.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]
