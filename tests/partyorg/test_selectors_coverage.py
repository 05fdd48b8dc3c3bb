import pytest

from grids.choices import RegionLevel, WorkerRole
from grids.errors import OutOfScope
from grids.selectors import subtree_worker_figures
from partyorg import selectors
from partyorg.choices import OrgType
from tests.grids.factories import GridAssignmentFactory, RegionFactory

from .factories import PartyMemberFactory, PartyOrgFactory, make_party_tree


@pytest.fixture
def party(tree):
    return make_party_tree(tree)


def test_coverage_counts_grids_with_a_branch(
    party, street_staff, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1):
        figures = selectors.party_coverage(actor=street_staff)
    assert figures == {"total": 4, "covered": 2, "uncovered": 2, "rate": 0.5}


def test_building_group_covers_its_grid(party, tree, street_staff):
    grid = tree["grids"][2]
    building = RegionFactory(level=RegionLevel.BUILDING, parent=grid)
    grid.refresh_from_db()
    tree["communities"][1].refresh_from_db()
    # Grid 4's only branch is inactive: it does not count. Grid 3 has an inactive
    # branch too, but an active building group on one of its buildings.
    branch = PartyOrgFactory(
        name="临时支部",
        org_type=OrgType.GRID_BRANCH,
        region=tree["grids"][3],
        parent=party["committees"][1],
        is_active=False,
    )
    PartyOrgFactory(
        name="楼栋党小组",
        org_type=OrgType.BUILDING_GROUP,
        region=building,
        parent=PartyOrgFactory(
            name="三网格支部",
            org_type=OrgType.GRID_BRANCH,
            region=grid,
            parent=party["committees"][1],
            is_active=False,
        ),
    )
    figures = selectors.party_coverage(actor=street_staff)
    assert figures["covered"] == 3  # grid 3 through its building group
    uncovered = list(selectors.grids_without_party_org(actor=street_staff))
    assert uncovered == [tree["grids"][3]]  # its only branch is inactive
    assert branch.is_active is False


def test_core_household_alone_does_not_cover(party, tree, street_staff):
    PartyOrgFactory(
        org_type=OrgType.CORE_HOUSEHOLD,
        region=tree["grids"][3],
        parent=None,
    )
    assert selectors.party_coverage(actor=street_staff)["covered"] == 2


def test_coverage_is_scoped_to_the_actor(party, community_staff, tree):
    assert selectors.party_coverage(actor=community_staff)["rate"] == 1.0
    assert (
        selectors.party_coverage(actor=community_staff, region=tree["grids"][0])[
            "total"
        ]
        == 1
    )
    with pytest.raises(OutOfScope):
        selectors.party_coverage(actor=community_staff, region=tree["communities"][1])


def test_other_tree_is_not_counted(party, other_tree, admin_user, street_staff):
    assert selectors.party_coverage(actor=street_staff)["total"] == 4
    assert selectors.party_coverage(actor=admin_user)["total"] == 8


def test_coverage_without_grids_has_no_rate(admin_user, other_tree):
    figures = selectors.party_coverage(
        actor=admin_user, region=other_tree["grids"][0].parent.parent
    )
    assert figures["rate"] == 0.0
    leaf = RegionFactory(level=RegionLevel.STREET, parent=other_tree["district"])
    assert selectors.party_coverage(actor=admin_user, region=leaf)["rate"] is None


def test_coverage_by_child_drills_down(
    party, tree, street_staff, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1):
        rows = [
            (r.name, r.grid_total, r.grid_covered)
            for r in selectors.coverage_by_child(
                actor=street_staff, region=tree["street"]
            )
        ]
    assert rows == [
        (tree["communities"][0].name, 2, 2),
        (tree["communities"][1].name, 2, 0),
    ]


def test_coverage_by_child_outside_scope(party, tree, community_staff):
    with pytest.raises(OutOfScope):
        selectors.coverage_by_child(actor=community_staff, region=tree["street"])


def test_grid_head_party_share_agrees_with_the_roster(
    party, tree, django_assert_max_num_queries
):
    heads = [
        GridAssignmentFactory(
            grid=grid, role=WorkerRole.HEAD, worker__is_party_member=True
        )
        for grid in tree["grids"][:3]
    ]
    GridAssignmentFactory(
        grid=tree["grids"][3], role=WorkerRole.HEAD, worker__is_party_member=False
    )
    for assignment in heads:
        PartyMemberFactory(
            organisation=party["working_committee"],
            grid_worker=assignment.worker,
            is_grid_head=True,
        )
    tree["street"].refresh_from_db()
    with django_assert_max_num_queries(2):
        figures = selectors.grid_head_party_figures(region=tree["street"])
    assert figures["heads"] == 4
    assert figures["roster_share"] == figures["party_share"] == 0.75
    assert figures["mismatched_worker_ids"] == []
    assert (
        subtree_worker_figures(region=tree["street"])["party_head_share"]
        == figures["roster_share"]
    )


def test_grid_head_mismatch_is_reported(party, tree):
    flagged = GridAssignmentFactory(
        grid=tree["grids"][0], role=WorkerRole.HEAD, worker__is_party_member=True
    )
    unflagged = GridAssignmentFactory(
        grid=tree["grids"][1], role=WorkerRole.HEAD, worker__is_party_member=False
    )
    PartyMemberFactory(organisation=party["branches"][1], grid_worker=unflagged.worker)
    tree["street"].refresh_from_db()
    figures = selectors.grid_head_party_figures(region=tree["street"])
    assert figures["roster_share"] == figures["party_share"] == 0.5
    assert figures["mismatched_worker_ids"] == sorted(
        [flagged.worker_id, unflagged.worker_id]
    )
