"""The grid worker's visit page and a grid's QR poster (/m/tickets/)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from grids.choices import PatrolKind, RegionLevel
from grids.models import Patrol
from tests.grids.factories import (
    GridAssignmentFactory,
    GridWorkerFactory,
    HouseholdFactory,
    RegionFactory,
    ResidentFactory,
)
from tickets.choices import Source
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, format="JPEG")
    return SimpleUploadedFile("v.jpg", out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def building(tree):
    return RegionFactory(
        name="幸福里1号楼", level=RegionLevel.BUILDING, parent=tree["grids"][0]
    )


@pytest.fixture
def household(building):
    household = HouseholdFactory(region=building, address="幸福里1号楼2单元502室")
    ResidentFactory(household=household, name="李秀英")
    return household


@pytest.fixture
def worker_client(client, grid_worker):
    client.force_login(grid_worker)
    return client


def test_visit_page_finds_the_household_by_room_and_picks_it(worker_client, household):
    url = reverse("m:tickets:visit")
    body = worker_client.get(url, {"room": "2单元502"}).content.decode()
    assert f"{url}?household={household.pk}" in body
    response = worker_client.get(url, {"household": household.pk})
    assert response.status_code == 200
    assert household.address in response.content.decode()


def test_visit_page_refuses_an_outside_household_with_404(worker_client, other_tree):
    far = HouseholdFactory(region=other_tree["grids"][0], address="外区1号")
    url = reverse("m:tickets:visit")
    assert worker_client.get(url, {"household": far.pk}).status_code == 404
    assert worker_client.get(url, {"household": "x"}).status_code == 404


def test_patrol_check_in_double_submit_is_one_record(worker_client, tree):
    data = {
        "kind": PatrolKind.PATROL,
        "region": tree["grids"][0].pk,
        "notes": "日巡查：小区门口无异常",
        "idempotency_key": "patrol-key-0001",
    }
    url = reverse("m:tickets:visit")
    first = worker_client.post(url, data)
    second = worker_client.post(url, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("m:home")
    assert Patrol.objects.filter(kind=PatrolKind.PATROL).count() == 1


def test_household_visit_raises_an_event_in_the_same_step(
    worker_client, tree, household, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    response = worker_client.post(
        reverse("m:tickets:visit") + f"?household={household.pk}",
        {
            "kind": PatrolKind.VISIT,
            "region": household.region_id,
            "household": household.pk,
            "notes": "入户走访，老人反映楼道灯坏",
            "photo": jpeg(),
            "raise_event": "on",
            "event_description": "5楼楼道灯不亮",
            "idempotency_key": "visit-key-00001",
        },
    )
    assert response.status_code == 302
    patrol = Patrol.objects.get()
    assert patrol.household == household and patrol.photo
    ticket = Ticket.objects.get()
    assert ticket.source == Source.PATROL
    assert ticket.region == household.region


def test_visit_without_a_household_or_event_text_is_shown_again(worker_client, tree):
    url = reverse("m:tickets:visit")
    response = worker_client.post(
        url,
        {
            "kind": PatrolKind.VISIT,
            "region": tree["grids"][0].pk,
            "notes": "走访",
            "raise_event": "on",
            "idempotency_key": "visit-key-00002",
        },
    )
    assert response.status_code == 200
    assert "走访" in response.content.decode()  # what was typed is kept
    assert not Patrol.objects.exists() and not Ticket.objects.exists()


def test_visit_in_another_grid_is_refused(worker_client, tree):
    response = worker_client.post(
        reverse("m:tickets:visit"),
        {
            "kind": PatrolKind.PATROL,
            "region": tree["grids"][1].pk,
            "notes": "巡查",
            "idempotency_key": "visit-key-00003",
        },
    )
    assert response.status_code == 200
    assert not Patrol.objects.exists()


def test_supervisor_may_not_open_the_visit_page(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("m:tickets:visit")).status_code == 403


@pytest.mark.parametrize("size", [1, 30])
def test_visit_page_query_count_is_fixed(
    worker_client, building, size, django_assert_max_num_queries
):
    for n in range(size):
        household = HouseholdFactory(
            region=building, address=f"幸福里1号楼1单元{n + 1}01室"
        )
        ResidentFactory(household=household)
    with django_assert_max_num_queries(8):
        response = worker_client.get(reverse("m:tickets:visit"), {"room": "1单元"})
    assert response.status_code == 200


def test_poster_shows_the_grid_its_workers_and_the_qr_code(worker_client, tree):
    grid = tree["grids"][0]
    GridAssignmentFactory(grid=grid, worker=GridWorkerFactory(name="王网格"))
    response = worker_client.get(reverse("m:tickets:poster", args=[grid.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert grid.name in body and "王网格" in body
    assert "<svg" in body
    assert "/m/tickets/r/" in body


def test_poster_outside_my_area_or_of_a_non_grid_is_404(
    worker_client, tree, other_tree
):
    for region in (tree["grids"][1], other_tree["grids"][0], tree["communities"][0]):
        url = reverse("m:tickets:poster", args=[region.pk])
        assert worker_client.get(url).status_code == 404


def test_street_staff_open_any_poster_of_their_street_from_the_admin(
    client, street_staff, tree
):
    client.force_login(street_staff)
    grid = tree["grids"][3]
    change = client.get(reverse("admin:grids_region_change", args=[grid.pk]))
    poster_url = reverse("m:tickets:poster", args=[grid.pk])
    assert poster_url in change.content.decode()
    assert client.get(poster_url).status_code == 200


@pytest.mark.parametrize("workers", [1, 12])
def test_poster_query_count_is_fixed(
    worker_client, tree, workers, django_assert_max_num_queries
):
    grid = tree["grids"][0]
    for _ in range(workers):
        GridAssignmentFactory(grid=grid)
    with django_assert_max_num_queries(8):
        response = worker_client.get(reverse("m:tickets:poster", args=[grid.pk]))
    assert response.status_code == 200


def test_an_account_without_an_area_is_refused_the_field_pages(client, tree):
    from grids.choices import UserRole
    from tests.grids.factories import UserFactory

    nobody = UserFactory(role=UserRole.GRID_WORKER, region=None, is_staff=False)
    client.force_login(nobody)
    for url in (
        reverse("m:tickets:visit"),
        reverse("m:tickets:poster", args=[tree["grids"][0].pk]),
        reverse("m:grid:household_find"),
        reverse("m:grid:building_list"),
    ):
        assert client.get(url).status_code in (403, 404), url
