import tablib

from grids.models import GridAssignment, GridWorker, Household, Region, Resident
from grids.resources import (
    HouseholdResource,
    RegionResource,
    ResidentResource,
    RosterResource,
    import_dataset,
    import_errors,
)
from tests.grids.factories import next_id_number


def _dataset(headers, *rows):
    return tablib.Dataset(*rows, headers=headers)


def _coded_tree(admin_user):
    from grids import services

    d = services.region_create(
        actor=admin_user, name="区", level="district", code="370102"
    )
    s = services.region_create(
        actor=admin_user, parent=d, name="街道", level="street", code="370102001"
    )
    c = services.region_create(
        actor=admin_user, parent=s, name="社区", level="community", code="370102001001"
    )
    g = services.region_create(
        actor=admin_user, parent=c, name="网格", level="grid", code="370102001001001"
    )
    return d, s, c, g


def test_region_import_creates_nodes_parent_first(admin_user):
    _coded_tree(admin_user)
    data = _dataset(
        ["code", "name", "level", "parent_code"],
        ["370102001002", "新社区", "社区/村", "370102001"],
        ["370102001002001", "新网格", "grid", "370102001002"],
    )
    result = import_dataset(
        actor=admin_user, resource_class=RegionResource, dataset=data
    )
    assert import_errors(result) == []
    grid = Region.objects.get(code="370102001002001")
    assert grid.parent.code == "370102001002"
    assert grid.level == "grid"


def test_region_import_with_a_bad_row_writes_nothing_and_names_the_row(admin_user):
    _coded_tree(admin_user)
    before = Region.objects.count()
    data = _dataset(
        ["code", "name", "level", "parent_code"],
        ["370102001002", "新社区", "community", "370102001"],
        ["370102001003", "错层级", "grid", "370102001"],  # a grid under a street
        ["370102001004", "另一个社区", "community", "370102001"],
    )
    result = import_dataset(
        actor=admin_user, resource_class=RegionResource, dataset=data
    )
    errors = import_errors(result)
    assert [number for number, _ in errors] == [2]
    assert Region.objects.count() == before


def test_roster_import_starts_and_ends_stints(admin_user):
    *_, grid = _coded_tree(admin_user)
    data = _dataset(
        [
            "grid_code",
            "worker_name",
            "worker_phone",
            "is_party_member",
            "role",
            "started_on",
            "ended_on",
        ],
        [grid.code, "刘洋", "13912345678", "1", "专职", "2025-01-01", ""],
        [
            grid.code,
            "陈静",
            "13912345679",
            "0",
            "part_time",
            "2024-01-01",
            "2024-12-31",
        ],
    )
    result = import_dataset(
        actor=admin_user, resource_class=RosterResource, dataset=data
    )
    assert import_errors(result) == []
    assert GridWorker.objects.get(phone="13912345678").is_party_member
    assert GridAssignment.objects.current().filter(grid=grid).count() == 1
    assert GridAssignment.objects.filter(grid=grid, ended_on__isnull=False).count() == 1


def test_roster_import_bad_phone_writes_nothing(admin_user):
    *_, grid = _coded_tree(admin_user)
    data = _dataset(
        [
            "grid_code",
            "worker_name",
            "worker_phone",
            "is_party_member",
            "role",
            "started_on",
            "ended_on",
        ],
        [grid.code, "刘洋", "13912345678", "1", "专职", "2025-01-01", ""],
        [grid.code, "陈静", "12345", "0", "兼职", "2025-01-01", ""],
    )
    result = import_dataset(
        actor=admin_user, resource_class=RosterResource, dataset=data
    )
    assert [n for n, _ in import_errors(result)] == [2]
    assert not GridWorker.objects.exists()


def test_household_and_resident_import_and_bad_id_rolls_back(admin_user):
    *_, grid = _coded_tree(admin_user)
    good_id = next_id_number()
    households = _dataset(
        ["region_code", "address", "household_number"], [grid.code, "幸福路1号", "H1"]
    )
    assert (
        import_errors(
            import_dataset(
                actor=admin_user, resource_class=HouseholdResource, dataset=households
            )
        )
        == []
    )
    assert Household.objects.get(address="幸福路1号").region == grid

    bad_id = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")
    residents = _dataset(
        [
            "region_code",
            "address",
            "name",
            "id_number",
            "phone",
            "relationship",
            "residence_type",
        ],
        [grid.code, "幸福路1号", "张三", good_id, "13800000001", "户主", "户籍人口"],
        [grid.code, "幸福路2号", "李四", bad_id, "", "head", "registered"],
    )
    result = import_dataset(
        actor=admin_user, resource_class=ResidentResource, dataset=residents
    )
    errors = import_errors(result)
    assert [n for n, _ in errors] == [2]
    assert "check digit" in errors[0][1] or "校验" in errors[0][1]
    assert not Resident.objects.exists()
    assert not Household.objects.filter(address="幸福路2号").exists()


def test_import_cannot_reach_outside_scope(tree, other_tree, community_staff):

    admin = (
        community_staff  # community staff may keep households in their community only
    )
    foreign_grid = other_tree["grids"][0]
    Region.objects.filter(pk=foreign_grid.pk).update(code="999999001001001")
    data = _dataset(["region_code", "address"], ["999999001001001", "越界路1号"])
    result = import_dataset(actor=admin, resource_class=HouseholdResource, dataset=data)
    assert [n for n, _ in import_errors(result)] == [1]
    assert not Household.objects.exists()
