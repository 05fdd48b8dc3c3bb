"""The field pages' reads: room parsing, household search, card and building plan."""

import pytest

from grids import selectors
from grids.choices import RegionLevel, UserRole
from grids.errors import OutOfScope
from grids.rooms import RoomPlace, room_place, room_search_text
from tests.grids.factories import (
    HouseholdFactory,
    RegionFactory,
    ResidentFactory,
    ResidentTagFactory,
    UserFactory,
)


@pytest.mark.parametrize(
    ("address", "place"),
    [
        ("幸福路3号楼2单元502室", RoomPlace(unit=2, floor=5, door=2)),
        ("幸福路3号楼1单元1201室", RoomPlace(unit=1, floor=12, door=1)),
        ("和平里5号楼3-302", RoomPlace(unit=3, floor=3, door=2)),
        ("和平里5号楼301室", RoomPlace(unit=1, floor=3, door=1)),
        ("幸福路12号", None),
        ("", None),
    ],
)
def test_room_place_reads_unit_floor_and_door(address, place):
    assert room_place(address) == place


def test_room_search_text_normalises_what_a_worker_types():
    assert room_search_text("3单元502") == "3单元502"
    assert room_search_text("3-502") == "3单元502"
    assert room_search_text(" 502室 ") == "502"
    assert room_search_text("张") == "张"


@pytest.fixture
def building(tree):
    return RegionFactory(
        name="1号楼", level=RegionLevel.BUILDING, parent=tree["grids"][0]
    )


@pytest.fixture
def tags(db):
    return {
        "alone": ResidentTagFactory(code="alone", name="独居老人"),
        "disabled": ResidentTagFactory(
            code="disabled", name="残疾人", visible_to_roles=[UserRole.GRID_WORKER]
        ),
        "secret": ResidentTagFactory(
            code="secret", name="社区矫正", visible_to_roles=[UserRole.STREET_STAFF]
        ),
    }


def _household(building, address, *tag_list, name="张三丰"):
    household = HouseholdFactory(region=building, address=address)
    resident = ResidentFactory(household=household, name=name)
    resident.tags.set(tag_list)
    return household


def test_household_search_by_room_and_by_name_in_scope_only(
    tree, building, grid_worker, tags
):
    mine = _household(building, "幸福路1号楼3单元502室", name="李秀英")
    _household(building, "幸福路1号楼3单元1502室", name="王五")
    other = RegionFactory(
        name="2号楼", level=RegionLevel.BUILDING, parent=tree["grids"][1]
    )
    _household(other, "幸福路2号楼3单元502室", name="李秀英")

    by_room = selectors.household_search(actor=grid_worker, room="3单元502")
    assert by_room == [mine]
    by_room_only = selectors.household_search(actor=grid_worker, room="502")
    assert by_room_only == [mine]  # not 1502, not the other grid's 502
    assert selectors.household_search(actor=grid_worker, name="秀英") == [mine]
    assert selectors.household_search(actor=grid_worker) == []


def test_household_search_by_name_refused_to_roles_that_see_masked_names(
    tree, building, supervisor
):
    _household(building, "幸福路1号楼1单元101室", name="李秀英")
    assert selectors.household_search(actor=supervisor, name="秀英") == []


def test_household_card_masks_personal_data_and_hides_tags_of_other_roles(
    building, grid_worker, tags
):
    household = _household(
        building,
        "幸福路1号楼1单元101室",
        tags["alone"],
        tags["disabled"],
        tags["secret"],
    )
    resident = household.residents.get()
    card = selectors.household_card(actor=grid_worker, household_id=household.pk)
    person = card["people"][0]
    assert person["name"] == resident.name
    assert person["id_number"] != resident.id_number
    assert person["id_number"].endswith(resident.id_number[-4:])
    assert resident.phone not in person["phone"]
    assert {t.code for t in person["tags"]} == {"alone", "disabled"}


def test_household_card_masks_names_for_supervisors(building, supervisor):
    household = _household(building, "幸福路1号楼1单元101室", name="张三丰")
    card = selectors.household_card(actor=supervisor, household_id=household.pk)
    assert card["people"][0]["name"] == "张*丰"


def test_household_card_outside_scope_does_not_exist(other_tree, grid_worker):
    elsewhere = HouseholdFactory(region=other_tree["grids"][0])
    with pytest.raises(OutOfScope):
        selectors.household_card(actor=grid_worker, household_id=elsewhere.pk)


def test_building_plan_draws_floors_by_units_with_visible_tags(
    building, grid_worker, tags
):
    top = _household(building, "幸福路1号楼2单元301室", tags["alone"])
    _household(building, "幸福路1号楼1单元101室", tags["secret"])
    _household(building, "幸福路1号楼1单元102室")
    loose = _household(building, "幸福路1号楼地下室")
    plan = selectors.building_plan(actor=grid_worker, building_id=building.pk)
    assert plan["units"] == [1, 2]
    assert [row["floor"] for row in plan["rows"]] == [3, 2, 1]  # 2 is empty
    assert plan["rows"][1]["cells"] == [[], []]
    first_row = plan["rows"][0]
    assert first_row["floor"] == 3
    assert first_row["cells"][0] == [] and first_row["cells"][1] == [top]
    assert [t.code for t in first_row["cells"][1][0].shown_tags] == ["alone"]
    bottom = plan["rows"][-1]["cells"][0]
    assert [h.place.door for h in bottom] == [1, 2]
    assert all(not h.shown_tags for h in bottom)  # 社区矫正 is not for workers
    assert [t.code for _mark, t in plan["legend"]] == ["alone"]
    assert plan["unplaced"] == [loose]


def test_building_plan_outside_scope_and_not_a_building(tree, other_tree, grid_worker):
    far = RegionFactory(
        name="外楼", level=RegionLevel.BUILDING, parent=other_tree["grids"][0]
    )
    for region_id in (far.pk, tree["grids"][0].pk):
        with pytest.raises(OutOfScope):
            selectors.building_plan(actor=grid_worker, building_id=region_id)


@pytest.mark.parametrize("size", [3, 40])
def test_building_plan_query_count_fixed_whatever_the_size(
    building, grid_worker, tags, size, django_assert_max_num_queries
):
    for n in range(size):
        _household(
            building,
            f"幸福路1号楼{n % 3 + 1}单元{n // 3 + 1}0{n % 2 + 1}室",
            tags["alone"],
        )
    with django_assert_max_num_queries(3):
        plan = selectors.building_plan(actor=grid_worker, building_id=building.pk)
    assert plan["household_count"] == size


def test_building_list_counts_households_of_my_grid(tree, building, grid_worker):
    _household(building, "幸福路1号楼1单元101室")
    RegionFactory(name="外楼", level=RegionLevel.BUILDING, parent=tree["grids"][1])
    listed = list(selectors.building_list(actor=grid_worker))
    assert listed == [building]
    assert listed[0].household_total == 1


def test_patrol_places_are_my_grid_and_its_buildings(tree, building):
    worker = UserFactory(
        role=UserRole.GRID_WORKER, region=tree["grids"][0], is_staff=False
    )
    assert list(selectors.patrol_places(actor=worker)) == [tree["grids"][0], building]
