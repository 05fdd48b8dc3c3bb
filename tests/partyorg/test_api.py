"""The partyorg resources of ``/api/v1/party/``: organisations, members (phones
masked) and micro-wishes walked through their steps by the API, each write by
the services; another community's rows are 404; fixed queries per page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from partyorg.choices import OrgType, WishState
from partyorg.models import PartyMember, PartyOrg, Wish

from .factories import PartyMemberFactory, WishFactory, make_party_tree, png_upload

pytestmark = pytest.mark.django_db

BASE = "/api/v1/party/"


def api(user):
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def party(tree):
    return make_party_tree(tree)


@pytest.fixture
def member(party):
    return PartyMemberFactory(
        name="李党员", phone="13712345678", organisation=party["branches"][0]
    )


def test_members_phone_is_masked(community_staff, member):
    response = api(community_staff).get(f"{BASE}members/{member.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "李党员"
    assert body["phone"] != "13712345678" and "*" in body["phone"]
    listed = api(community_staff).get(BASE + "members/").content.decode()
    assert "13712345678" not in listed


def test_member_create_and_change_through_the_services(community_staff, party):
    client = api(community_staff)
    created = client.post(
        BASE + "members/",
        {
            "name": "王党员",
            "phone": "13700000001",
            "organisation": party["branches"][0].pk,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    member_id = created.json()["id"]
    duplicate = client.post(
        BASE + "members/",
        {
            "name": "重复",
            "phone": "13700000001",
            "organisation": party["branches"][0].pk,
        },
        format="json",
    )
    assert duplicate.status_code in (400, 409)
    changed = client.patch(f"{BASE}members/{member_id}/", {"employer": "某公司"})
    assert changed.status_code == 200 and changed.json()["employer"] == "某公司"
    assert PartyMember.objects.count() == 1


def test_outside_rows_are_404(community_staff, party, other_tree):
    other_party = make_party_tree(other_tree)
    stranger = PartyMemberFactory(organisation=other_party["branches"][0])
    far_wish = WishFactory(region=other_tree["grids"][0])
    sibling_wish = WishFactory(region=party["committees"][1].region.get_children()[0])
    client = api(community_staff)
    assert client.get(f"{BASE}members/{stranger.pk}/").status_code == 404
    assert (
        client.get(
            f"{BASE}organisations/{other_party['committees'][0].pk}/"
        ).status_code
        == 404
    )
    for wish in (far_wish, sibling_wish):
        assert client.get(f"{BASE}wishes/{wish.pk}/").status_code == 404
        refused = client.post(f"{BASE}wishes/{wish.pk}/cancel/", {"note": "x"})
        assert refused.status_code == 404
        wish.refresh_from_db()
        assert wish.state == WishState.POSTED
    listed = {w["id"] for w in client.get(BASE + "wishes/").json()["results"]}
    assert far_wish.pk not in listed and sibling_wish.pk not in listed
    # Posting in another community's grid: the service's scope check.
    response = client.post(
        BASE + "wishes/",
        {"region": other_tree["grids"][0].pk, "title": "x", "beneficiary": "y"},
        format="json",
    )
    assert response.status_code == 404


def test_organisation_create_follows_the_tree_rules(street_staff, party, tree):
    client = api(street_staff)
    created = client.post(
        BASE + "organisations/",
        {
            "name": "第二网格党支部",
            "org_type": OrgType.GRID_BRANCH,
            "region": tree["grids"][2].pk,
            "parent": party["committees"][1].pk,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    wrong = client.post(
        BASE + "organisations/",
        {
            "name": "错误层级",
            "org_type": OrgType.GRID_BRANCH,
            "region": tree["communities"][0].pk,
            "parent": party["working_committee"].pk,
        },
        format="json",
    )
    assert wrong.status_code == 400
    assert set(wrong.json()) == {"code", "message", "extra"}
    assert not PartyOrg.objects.filter(name="错误层级").exists()
    renamed = client.patch(
        f"{BASE}organisations/{created.json()['id']}/", {"secretary": "赵书记"}
    )
    assert renamed.json()["secretary"] == "赵书记"


def test_a_wish_through_every_step(grid_worker, community_staff, member, tree):
    worker = api(grid_worker)
    posted = worker.post(
        BASE + "wishes/",
        {"region": tree["grids"][0].pk, "title": "买助听器", "beneficiary": "独居老人"},
        format="json",
    )
    assert posted.status_code == 201, posted.content
    wish_id = posted.json()["id"]
    url = f"{BASE}wishes/{wish_id}/"
    claimed = worker.post(url + "claim/", {"member": member.pk}, format="json")
    assert claimed.status_code == 200, claimed.content
    assert claimed.json()["state"] == WishState.CLAIMED
    assert claimed.json()["claimed_by"] == member.pk
    again = worker.post(url + "claim/", {"member": member.pk}, format="json")
    assert again.status_code == 409
    no_photo = worker.post(url + "fulfil/", {"note": "已送达"})
    assert no_photo.status_code == 400
    fulfilled = worker.post(
        url + "fulfil/", {"note": "已送达", "photo": png_upload()}, format="multipart"
    )
    assert fulfilled.status_code == 200, fulfilled.content
    staff = api(community_staff)
    assert staff.post(url + "reject/", {}).status_code == 400  # a reason is needed
    rejected = staff.post(url + "reject/", {"note": "老人说没收到"})
    assert rejected.json()["state"] == WishState.CLAIMED
    worker.post(
        url + "fulfil/", {"note": "补送", "photo": png_upload()}, format="multipart"
    )
    confirmed = staff.post(url + "confirm/", {})
    assert confirmed.json()["state"] == WishState.CONFIRMED
    events = list(Wish.objects.get(pk=wish_id).events.values_list("action", flat=True))
    assert len(events) == 6


def test_supervisor_reads_but_cannot_write(supervisor, tree):
    client = api(supervisor)
    assert client.get(BASE + "wishes/").status_code == 200
    response = client.post(
        BASE + "wishes/",
        {"region": tree["grids"][0].pk, "title": "x", "beneficiary": "y"},
        format="json",
    )
    assert response.status_code == 403
    assert not Wish.objects.exists()


def test_list_pages_cost_the_same_queries(community_staff, party, tree):
    client = api(community_staff)
    client.get(BASE + "wishes/")

    def count(path):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    paths = ("wishes/", "members/", "organisations/")
    PartyMemberFactory(organisation=party["branches"][0])
    WishFactory(region=tree["grids"][0])
    small = {p: count(BASE + p) for p in paths}
    for _n in range(6):
        PartyMemberFactory(organisation=party["branches"][1])
        WishFactory(region=tree["grids"][1])
    assert {p: count(BASE + p) for p in paths} == small


def test_release_and_withdraw_steps_and_a_replayed_claim(grid_worker, member, tree):
    """The steps made by ``grids.api.views.service_action``: release gives the
    claim back, withdraw closes; a claim sent again with its key is replayed."""
    worker = api(grid_worker)
    wish = WishFactory(region=tree["grids"][0])
    url = f"{BASE}wishes/{wish.pk}/"
    key = {"HTTP_IDEMPOTENCY_KEY": "claim-0001-aaaa"}
    claimed = worker.post(url + "claim/", {"member": member.pk}, format="json", **key)
    again = worker.post(url + "claim/", {"member": member.pk}, format="json", **key)
    assert claimed.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true" and again.json() == claimed.json()
    missing = worker.post(url + "claim/", {"member": 987654321}, format="json")
    assert missing.status_code == 404
    released = worker.post(url + "release/", {}, format="json")
    assert released.status_code == 200 and released.json()["state"] == WishState.POSTED
    withdrawn = worker.post(url + "withdraw/", {"note": "不需要了"}, format="json")
    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["state"] == WishState.WITHDRAWN
    bad = worker.post(url + "release/", ["not", "an", "object"], format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_step_endpoints_are_documented_with_their_own_bodies(community_staff):
    schema = api(community_staff).get("/api/schema/?format=json").json()
    paths = schema["paths"]
    claim = paths["/api/v1/party/wishes/{id}/claim/"]["post"]
    body = claim["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/WishClaimRequest")
    answer = claim["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["$ref"].endswith("/Wish")
    # No input: no body at all.
    assert "requestBody" not in paths["/api/v1/points/prizes/{id}/deactivate/"]["post"]
    stock = paths["/api/v1/points/prizes/{id}/stock/"]["post"]["requestBody"]
    assert stock["content"]["application/json"]["schema"]["$ref"].endswith(
        "/StockRequest"
    )
