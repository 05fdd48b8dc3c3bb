"""The points resources of ``/api/v1/points/``: scope (another community's rows
are 404), masking, every write through the services with their refusals in the
API's error format, idempotent retries, and a fixed query count per page."""

import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from grids.choices import UserRole
from points import services
from points.choices import AwardStatus, RedemptionStatus
from points.models import Award, PointsAccount, Prize, Redemption
from tests.grids.factories import UserFactory
from tests.points.factories import PrizeFactory, RuleItemFactory, next_key, resident_in

pytestmark = pytest.mark.django_db

BASE = "/api/v1/points/"


def api(user):
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def grid_worker_user(tree):
    return UserFactory(role=UserRole.GRID_WORKER, region=tree["grids"][0])


@pytest.fixture
def supervisor(tree):
    return UserFactory(role=UserRole.SUPERVISOR, region=tree["street"])


def _propose(client, resident, item, key=None, **extra):
    return client.post(
        BASE + "awards/",
        {
            "resident": resident.pk,
            "rule_item": item.pk,
            "awarded_on": timezone.localdate().isoformat(),
            **extra,
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()),
    )


def test_anonymous_is_refused(client):
    response = client.get(BASE + "accounts/")
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


def test_award_propose_approve_books_points(
    grid_worker_user, community_staff, resident, rule_item
):
    proposed = _propose(api(grid_worker_user), resident, rule_item, note="扶老人")
    assert proposed.status_code == 201, proposed.content
    body = proposed.json()
    assert body["status"] == AwardStatus.PROPOSED
    assert body["points"] == 10
    approved = api(community_staff).post(
        f"{BASE}awards/{body['id']}/approve/", {}, format="json"
    )
    assert approved.status_code == 200
    assert approved.json()["status"] == AwardStatus.APPROVED
    account = PointsAccount.objects.get(resident=resident)
    assert account.balance == 10
    accounts = api(community_staff).get(BASE + "accounts/").json()["results"]
    assert [(a["id"], a["balance"]) for a in accounts] == [(account.pk, 10)]


def test_award_retry_with_the_same_key_is_one_proposal(
    grid_worker_user, resident, rule_item
):
    client = api(grid_worker_user)
    first = _propose(client, resident, rule_item, key="award-key-0001")
    again = _propose(client, resident, rule_item, key="award-key-0001")
    assert first.status_code == 201 and again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = _propose(client, resident, rule_item, key="award-key-0001", note="不同")
    assert other.status_code == 409
    assert set(other.json()) == {"code", "message", "extra"}
    assert Award.objects.count() == 1


def test_award_without_a_key_is_refused(grid_worker_user, resident, rule_item):
    response = api(grid_worker_user).post(
        BASE + "awards/",
        {
            "resident": resident.pk,
            "rule_item": rule_item.pk,
            "awarded_on": timezone.localdate().isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key"
    assert not Award.objects.exists()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"resident": "x", "rule_item": 1, "awarded_on": "2026-01-01"}, 400),
        ({"resident": 1, "rule_item": 1, "awarded_on": "not a date"}, 400),
        ({"resident": 10**30, "rule_item": 1, "awarded_on": "2026-01-01"}, 404),
        (["a", "list"], 400),
    ],
)
def test_award_bad_bodies_are_refused(grid_worker_user, body, status):
    response = api(grid_worker_user).post(
        BASE + "awards/", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )
    assert response.status_code == status
    assert set(response.json()) == {"code", "message", "extra"}
    assert not Award.objects.exists()


def test_outside_community_objects_are_404(
    community_staff, street_staff, outside_resident, rule_item
):
    award, _ = services.award_propose(
        actor=street_staff,
        resident_id=outside_resident.pk,
        rule_item_id=rule_item.pk,
        awarded_on=timezone.localdate(),
        idempotency_key=next_key(),
    )
    services.award_approve(actor=street_staff, award_id=award.pk)
    account = PointsAccount.objects.get(resident=outside_resident)
    client = api(community_staff)
    assert client.get(f"{BASE}awards/{award.pk}/").status_code == 404
    assert client.get(f"{BASE}accounts/{account.pk}/").status_code == 404
    refused = client.post(f"{BASE}awards/{award.pk}/reject/", {"reason": "x"})
    assert refused.status_code == 404
    assert client.get(BASE + "awards/").json()["results"] == []
    # Proposing for a resident of another community: the service's scope check.
    response = _propose(client, outside_resident, rule_item)
    assert response.status_code == 404
    assert Award.objects.count() == 1


def test_names_are_masked_for_supervisors(
    supervisor, community_staff, resident, credit
):
    credit(resident, 5)
    shown = api(community_staff).get(BASE + "accounts/").json()["results"]
    assert shown[0]["resident_name"] == "张三丰"
    masked = api(supervisor).get(BASE + "accounts/").json()["results"]
    assert masked[0]["resident_name"] != "张三丰"
    assert "*" in masked[0]["resident_name"]
    body = api(supervisor).get(BASE + "awards/").content.decode()
    assert "张三丰" not in body


def test_supervisor_cannot_write(supervisor, resident, rule_item):
    response = _propose(api(supervisor), resident, rule_item)
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"


def test_reject_needs_a_reason(grid_worker_user, community_staff, resident, rule_item):
    award_id = _propose(api(grid_worker_user), resident, rule_item).json()["id"]
    client = api(community_staff)
    assert client.post(f"{BASE}awards/{award_id}/reject/", {}).status_code == 400
    done = client.post(f"{BASE}awards/{award_id}/reject/", {"reason": "不属实"})
    assert done.json()["status"] == AwardStatus.REJECTED
    again = client.post(f"{BASE}awards/{award_id}/approve/", {})
    assert again.status_code == 409


def test_prizes_create_change_stock_and_scope(community_staff, tree, other_tree):
    client = api(community_staff)
    community = tree["communities"][0]
    created = client.post(
        BASE + "prizes/",
        {"region": community.pk, "name": "洗衣液", "price": 30, "stock": 5},
        format="json",
    )
    assert created.status_code == 201, created.content
    prize_id = created.json()["id"]
    changed = client.patch(
        f"{BASE}prizes/{prize_id}/", {"price": 40, "stock": 999}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["price"] == 40 and changed.json()["stock"] == 5
    stocked = client.post(f"{BASE}prizes/{prize_id}/stock/", {"delta": 3})
    assert stocked.json()["stock"] == 8
    too_few = client.post(f"{BASE}prizes/{prize_id}/stock/", {"delta": -100})
    assert too_few.status_code == 409
    assert Prize.objects.get(pk=prize_id).stock == 8
    off = client.post(f"{BASE}prizes/{prize_id}/deactivate/")
    assert off.json()["is_active"] is False
    # Another district's prize, and a prize for another district's community.
    outside = PrizeFactory(region=other_tree["communities"][0])
    assert client.get(f"{BASE}prizes/{outside.pk}/").status_code == 404
    assert (
        client.post(f"{BASE}prizes/{outside.pk}/stock/", {"delta": 1}).status_code
        == 404
    )
    for region_id in (other_tree["communities"][0].pk, 987654321):
        refused = client.post(
            BASE + "prizes/",
            {"region": region_id, "name": "外区奖品", "price": 1},
            format="json",
        )
        assert refused.status_code == 404
    assert not Prize.objects.filter(name="外区奖品").exists()


def test_street_prizes_are_listed_for_a_community(community_staff, tree):
    street_prize = PrizeFactory(region=tree["street"])
    other_community = PrizeFactory(region=tree["communities"][1])
    ids = {
        p["id"] for p in api(community_staff).get(BASE + "prizes/").json()["results"]
    }
    assert street_prize.pk in ids and other_community.pk not in ids


def test_redeem_retry_and_cancel(community_staff, resident, credit, tree):
    credit(resident, 100)
    prize = PrizeFactory(region=tree["communities"][0], price=30, stock=2)
    client = api(community_staff)

    def redeem(key):
        return client.post(
            BASE + "redemptions/",
            {"resident": resident.pk, "prize": prize.pk, "quantity": 1},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    first = redeem("redeem-key-0001")
    assert first.status_code == 201, first.content
    assert redeem("redeem-key-0001").json()["id"] == first.json()["id"]
    assert Redemption.objects.count() == 1
    assert PointsAccount.objects.get(resident=resident).balance == 70
    rid = first.json()["id"]
    assert client.post(f"{BASE}redemptions/{rid}/cancel/", {}).status_code == 400
    cancelled = client.post(f"{BASE}redemptions/{rid}/cancel/", {"reason": "拿错"})
    assert cancelled.json()["status"] == RedemptionStatus.CANCELLED
    assert PointsAccount.objects.get(resident=resident).balance == 100
    broke = client.post(
        BASE + "redemptions/",
        {"resident": resident.pk, "prize": prize.pk, "quantity": 50},
        format="json",
    )
    assert broke.status_code == 409
    assert Redemption.objects.count() == 1


def test_list_pages_cost_the_same_queries(
    community_staff, tree, credit, django_assert_num_queries
):
    client = api(community_staff)
    for n in range(2):
        credit(resident_in(tree["grids"][0], name=f"居民{n}"), 5)
    client.get(BASE + "accounts/")  # the session is warm

    def count(path):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    small = {p: count(BASE + p) for p in ("accounts/", "awards/", "redemptions/")}
    for n in range(2, 8):
        credit(resident_in(tree["grids"][1], name=f"居民{n}"), 5)
    RuleItemFactory()
    large = {p: count(BASE + p) for p in small}
    assert large == small
    with django_assert_num_queries(small["accounts/"]):
        assert len(client.get(BASE + "accounts/").json()["results"]) == 8
