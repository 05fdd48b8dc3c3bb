"""The field pages of the grids app (/m/grid/): household search, card and the
building view, scoped, masked and with a fixed number of queries."""

import pytest
from django.urls import reverse

from grids.choices import RegionLevel, UserRole
from tests.grids.factories import (
    GridAssignmentFactory,
    HouseholdFactory,
    RegionFactory,
    ResidentFactory,
    ResidentTagFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def building(tree):
    return RegionFactory(
        name="幸福里1号楼", level=RegionLevel.BUILDING, parent=tree["grids"][0]
    )


@pytest.fixture
def far_building(other_tree):
    return RegionFactory(
        name="外区1号楼", level=RegionLevel.BUILDING, parent=other_tree["grids"][0]
    )


def _fill(building, count, tag=None):
    households = []
    for n in range(count):
        household = HouseholdFactory(
            region=building, address=f"幸福里1号楼{n % 2 + 1}单元{n // 2 + 1}01室"
        )
        resident = ResidentFactory(household=household, name=f"住户{n}")
        if tag is not None:
            resident.tags.add(tag)
        households.append(household)
    return households


@pytest.fixture
def worker_client(client, grid_worker):
    client.force_login(grid_worker)
    return client


def test_pages_send_anonymous_visitors_to_the_phone_login(client, building):
    for url in (
        reverse("m:grid:household_find"),
        reverse("m:grid:building_list"),
        reverse("m:grid:building_plan", args=[building.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("m:login"))


def test_household_find_by_room_shows_my_household_only(
    worker_client, building, far_building
):
    mine = HouseholdFactory(region=building, address="幸福里1号楼3单元502室")
    HouseholdFactory(region=far_building, address="外区1号楼3单元502室")
    response = worker_client.get(reverse("m:grid:household_find"), {"room": "3单元502"})
    assert response.status_code == 200
    body = response.content.decode()
    assert mine.address in body
    assert "外区1号楼" not in body
    assert reverse("m:grid:household_card", args=[mine.pk]) in body


def test_household_card_masks_id_and_phone(worker_client, building):
    household = HouseholdFactory(region=building, address="幸福里1号楼1单元101室")
    resident = ResidentFactory(household=household, name="李秀英")
    response = worker_client.get(reverse("m:grid:household_card", args=[household.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "李秀英" in body
    assert resident.id_number not in body
    assert resident.phone not in body
    assert resident.id_number[-4:] in body
    assert str(resident.birth_date.year) not in body


def test_household_card_and_building_outside_my_grid_are_404(
    worker_client, tree, far_building
):
    sibling = RegionFactory(
        name="邻格楼", level=RegionLevel.BUILDING, parent=tree["grids"][1]
    )
    far = HouseholdFactory(region=far_building, address="外区1号楼1单元101室")
    near = HouseholdFactory(region=sibling, address="邻格楼1单元101室")
    for household in (far, near):
        url = reverse("m:grid:household_card", args=[household.pk])
        assert worker_client.get(url).status_code == 404
    for region in (far_building, sibling, tree["grids"][0]):
        url = reverse("m:grid:building_plan", args=[region.pk])
        assert worker_client.get(url).status_code == 404


def test_building_plan_links_each_flat_to_its_card_with_a_legend(
    worker_client, building
):
    tag = ResidentTagFactory(code="alone", name="独居老人")
    hidden = ResidentTagFactory(
        code="corr", name="社区矫正", visible_to_roles=[UserRole.STREET_STAFF]
    )
    tagged, plain = _fill(building, 2, tag)
    plain.residents.get().tags.add(hidden)
    response = worker_client.get(reverse("m:grid:building_plan", args=[building.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert reverse("m:grid:household_card", args=[tagged.pk]) in body
    assert reverse("m:grid:household_card", args=[plain.pk]) in body
    assert "独居老人" in body  # the legend and the flat's text, not colour alone
    assert "社区矫正" not in body


@pytest.mark.parametrize("size", [2, 60])
def test_field_pages_query_count_is_fixed(
    worker_client, building, size, django_assert_max_num_queries
):
    tag = ResidentTagFactory(code="alone", name="独居老人")
    households = _fill(building, size, tag)
    GridAssignmentFactory(grid=building.parent)
    for url in (
        reverse("m:grid:building_plan", args=[building.pk]),
        reverse("m:grid:building_list"),
        reverse("m:grid:household_card", args=[households[0].pk]),
        reverse("m:grid:household_find") + "?room=101",
    ):
        with django_assert_max_num_queries(8):
            assert worker_client.get(url).status_code == 200


def test_supervisor_sees_masked_names_and_cannot_search_them(
    client, supervisor, building
):
    household = HouseholdFactory(region=building, address="幸福里1号楼1单元101室")
    ResidentFactory(household=household, name="张三丰")
    client.force_login(supervisor)
    body = client.get(
        reverse("m:grid:household_card", args=[household.pk])
    ).content.decode()
    assert "张*丰" in body and "张三丰" not in body
    body = client.get(reverse("m:grid:household_find"), {"name": "三丰"}).content
    assert "幸福里1号楼1单元101室" not in body.decode()


@pytest.mark.parametrize("people", [1, 8])
def test_household_card_query_count_is_fixed_whatever_its_size(
    worker_client, building, people, django_assert_max_num_queries
):
    household = HouseholdFactory(region=building, address="幸福里1号楼1单元101室")
    tags = [ResidentTagFactory(code=f"t{n}", name=f"标签{n}") for n in range(3)]
    for n in range(people):
        ResidentFactory(household=household).tags.set(tags[: n % 3 + 1])
    with django_assert_max_num_queries(8):
        response = worker_client.get(
            reverse("m:grid:household_card", args=[household.pk])
        )
    assert response.status_code == 200
