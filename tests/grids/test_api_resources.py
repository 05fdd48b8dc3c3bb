"""The grids resources of the API: scope (another area's object is a 404),
the subtree filter, masking of personal data and its logged reveal, patrols
recorded through the service, the caller's own notifications, fixed query
counts per page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grids.models import Notification, Patrol, PersonalDataAccess
from tests.api_client import token_client
from tests.grids.factories import (
    GridAssignmentFactory,
    GridWorkerFactory,
    HouseholdFactory,
    PatrolFactory,
    ResidentFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_regions_subtree_filter_and_scope(street_staff, tree, other_tree):
    client = token_client(street_staff)
    community = tree["communities"][1]
    ids = _ids(client.get(f"/api/v1/regions/?subtree={community.pk}"))
    assert ids == {community.pk, *(g.pk for g in tree["grids"][2:4])}
    # Another district's node: not a choice (400), never its subtree.
    response = client.get(f"/api/v1/regions/?subtree={other_tree['street'].pk}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "subtree" in response.json()["extra"]["fields"]
    assert client.get(f"/api/v1/regions/{other_tree['street'].pk}/").status_code == 404
    assert client.get(f"/api/v1/regions/{community.pk}/").json()["parent"] == (
        tree["street"].pk
    )


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "٣", "9" * 40, ""])
def test_malformed_filter_values_never_500(street_staff, value):
    response = token_client(street_staff).get(f"/api/v1/regions/?subtree={value}")
    assert response.status_code in (200, 400)


def test_another_communitys_household_is_404(community_staff, tree):
    mine = HouseholdFactory(region=tree["grids"][0])
    theirs = HouseholdFactory(region=tree["grids"][2])
    client = token_client(community_staff)
    assert _ids(client.get("/api/v1/households/")) == {mine.pk}
    assert client.get(f"/api/v1/households/{theirs.pk}/").status_code == 404
    body = client.get(f"/api/v1/households/{theirs.pk}/").json()
    assert body["code"] == "not_found"


def test_residents_are_masked(community_staff, tree):
    resident = ResidentFactory(household=HouseholdFactory(region=tree["grids"][0]))
    response = token_client(community_staff).get(f"/api/v1/residents/{resident.pk}/")
    body = response.json()
    assert body["id_number"] == resident.masked_id_number != resident.id_number
    assert body["phone"] == resident.masked_phone != resident.phone
    assert "birth_date" not in body and "gender" not in body
    assert body["age_band"]
    assert resident.id_number not in response.content.decode()
    assert body["name"] == resident.name


def test_supervisors_see_names_masked(supervisor, tree):
    resident = ResidentFactory(
        name="张三丰", household=HouseholdFactory(region=tree["grids"][0])
    )
    body = token_client(supervisor).get(f"/api/v1/residents/{resident.pk}/").json()
    assert body["name"] == "张*丰"


def test_personal_data_cannot_be_filtered(community_staff, tree):
    resident = ResidentFactory(household=HouseholdFactory(region=tree["grids"][0]))
    client = token_client(community_staff)
    # Unknown parameters are ignored, never applied: the list is not narrowed.
    ids = _ids(client.get(f"/api/v1/residents/?id_number={resident.id_number}x"))
    assert ids == {resident.pk}


def test_reveal_is_logged_and_only_for_staff(community_staff, grid_worker, tree):
    resident = ResidentFactory(household=HouseholdFactory(region=tree["grids"][0]))
    url = f"/api/v1/residents/{resident.pk}/reveal/"
    body = {"fields": ["id_number"], "reason": "核对低保申请"}
    response = token_client(community_staff).post(url, body, format="json")
    assert response.status_code == 200
    assert response.json() == {"id_number": resident.id_number}
    access = PersonalDataAccess.objects.get()
    assert access.actor == community_staff and access.reason == "核对低保申请"
    refused = token_client(grid_worker).post(url, body, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_allowed"
    no_reason = token_client(community_staff).post(
        url, {"fields": ["phone"], "reason": ""}, format="json"
    )
    assert no_reason.status_code == 400
    assert PersonalDataAccess.objects.count() == 1


def test_reveal_outside_is_404(community_staff, tree):
    resident = ResidentFactory(household=HouseholdFactory(region=tree["grids"][2]))
    response = token_client(community_staff).post(
        f"/api/v1/residents/{resident.pk}/reveal/",
        {"fields": ["phone"], "reason": "x"},
        format="json",
    )
    assert response.status_code == 404
    assert not PersonalDataAccess.objects.exists()


def test_workers_and_stints_in_scope(community_staff, tree):
    mine = GridAssignmentFactory(grid=tree["grids"][0])
    theirs = GridAssignmentFactory(grid=tree["grids"][2])
    client = token_client(community_staff)
    assert _ids(client.get("/api/v1/stints/")) == {mine.pk}
    assert client.get(f"/api/v1/stints/{theirs.pk}/").status_code == 404
    workers = client.get("/api/v1/grid-workers/").json()["results"]
    assert [w["id"] for w in workers] == [mine.worker.pk]
    assert workers[0]["phone"] == mine.worker.masked_phone
    assert client.get(f"/api/v1/grid-workers/{theirs.worker.pk}/").status_code == 404
    lone = GridWorkerFactory(home_region=tree["communities"][1])
    assert client.get(f"/api/v1/grid-workers/{lone.pk}/").status_code == 404
    current = _ids(
        client.get(f"/api/v1/stints/?current=true&grid={tree['grids'][0].pk}")
    )
    assert current == {mine.pk}


def test_patrols_record_through_the_service(grid_worker, tree):
    client = token_client(grid_worker)
    response = client.post(
        "/api/v1/patrols/",
        {"region": tree["grids"][0].pk, "kind": "patrol", "notes": "路灯坏了"},
        format="json",
    )
    assert response.status_code == 201, response.content
    patrol = Patrol.objects.get()
    assert patrol.worker == grid_worker and response.json()["id"] == patrol.pk
    theirs = PatrolFactory(region=tree["grids"][2])
    assert client.get(f"/api/v1/patrols/{theirs.pk}/").status_code == 404
    assert _ids(client.get("/api/v1/patrols/")) == {patrol.pk}


def test_supervisor_cannot_record_patrols(supervisor, tree):
    response = token_client(supervisor).post(
        "/api/v1/patrols/",
        {"region": tree["grids"][0].pk, "kind": "patrol", "notes": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert not Patrol.objects.exists()


def test_notifications_are_the_callers_own(community_staff, street_staff):
    mine = Notification.objects.create(recipient=community_staff, title="新工单")
    theirs = Notification.objects.create(recipient=street_staff, title="别人的")
    client = token_client(community_staff)
    assert _ids(client.get("/api/v1/notifications/")) == {mine.pk}
    assert client.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    response = client.post(f"/api/v1/notifications/{mine.pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"]


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/api/v1/households/", lambda tree: HouseholdFactory(region=tree["grids"][0])),
        (
            "/api/v1/residents/",
            lambda tree: ResidentFactory(
                household=HouseholdFactory(region=tree["grids"][0])
            ),
        ),
        ("/api/v1/patrols/", lambda tree: PatrolFactory(region=tree["grids"][0])),
        ("/api/v1/stints/", lambda tree: GridAssignmentFactory(grid=tree["grids"][0])),
        ("/api/v1/regions/", lambda tree: None),
    ],
)
def test_a_page_costs_the_same_whatever_its_length(street_staff, tree, url, make):
    client = token_client(street_staff)
    client.get(url)  # warm: the token's last use is written once
    make(tree)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for _ in range(5):
        make(tree)
    with CaptureQueriesContext(connection) as six:
        assert client.get(url).status_code == 200
    assert len(six) == len(one) <= 4
