import pytest
from django.utils import translation

from grids.choices import RegionLevel
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from partyorg import services
from partyorg.choices import ALLOWED_CHILD_TYPES, OrgType
from partyorg.models import PartyOrg
from tests.grids.factories import RegionFactory


@pytest.fixture
def building(tree):
    node = RegionFactory(
        name="1号楼", level=RegionLevel.BUILDING, parent=tree["grids"][0]
    )
    for key in ("district", "street"):
        tree[key].refresh_from_db()
    for node_ in [*tree["communities"], *tree["grids"]]:
        node_.refresh_from_db()
    return node


def build_chain(actor, tree, building):
    wc = services.party_org_create(
        actor=actor,
        name="街道党工委",
        org_type=OrgType.WORKING_COMMITTEE,
        region=tree["street"],
    )
    cc = services.party_org_create(
        actor=actor,
        name="社区党委",
        org_type=OrgType.COMMUNITY_COMMITTEE,
        region=tree["communities"][0],
        parent=wc,
    )
    gb = services.party_org_create(
        actor=actor,
        name="第一网格党支部",
        org_type=OrgType.GRID_BRANCH,
        region=tree["grids"][0],
        parent=cc,
    )
    bg = services.party_org_create(
        actor=actor,
        name="1号楼党小组",
        org_type=OrgType.BUILDING_GROUP,
        region=building,
        parent=gb,
    )
    ch = services.party_org_create(
        actor=actor,
        name="楼道红管家",
        org_type=OrgType.CORE_HOUSEHOLD,
        region=building,
        parent=bg,
    )
    return wc, cc, gb, bg, ch


def test_street_staff_builds_the_five_level_tree(street_staff, tree, building):
    wc, _cc, _gb, _bg, ch = build_chain(street_staff, tree, building)
    wc.refresh_from_db()
    assert [o.org_type for o in wc.get_descendants(include_self=True)] == [
        OrgType.WORKING_COMMITTEE,
        OrgType.COMMUNITY_COMMITTEE,
        OrgType.GRID_BRANCH,
        OrgType.BUILDING_GROUP,
        OrgType.CORE_HOUSEHOLD,
    ]
    assert ch.depth == 4


@pytest.mark.parametrize(
    ("parent_type", "child_type"),
    [
        (parent, child)
        for parent in [None, *OrgType]
        for child in OrgType
        if child not in ALLOWED_CHILD_TYPES[parent]
    ],
)
def test_every_disallowed_parent_child_pair_is_refused(
    street_staff, tree, building, parent_type, child_type
):
    chain = dict(zip(OrgType, build_chain(street_staff, tree, building), strict=True))
    parent = chain[parent_type] if parent_type else None
    region_for = {
        OrgType.WORKING_COMMITTEE: tree["street"],
        OrgType.COMMUNITY_COMMITTEE: tree["communities"][0],
        OrgType.GRID_BRANCH: tree["grids"][0],
        OrgType.BUILDING_GROUP: building,
        OrgType.CORE_HOUSEHOLD: building,
    }
    before = PartyOrg.objects.count()
    with pytest.raises(DomainError) as excinfo:
        services.party_org_create(
            actor=street_staff,
            name="错",
            org_type=child_type,
            region=region_for[child_type],
            parent=parent,
        )
    assert excinfo.value.code == "illegal_placement"
    assert PartyOrg.objects.count() == before


@pytest.mark.parametrize(
    ("org_type", "region_key"),
    [
        (OrgType.WORKING_COMMITTEE, "community"),
        (OrgType.COMMUNITY_COMMITTEE, "grid"),
        (OrgType.GRID_BRANCH, "community"),
    ],
)
def test_region_level_must_fit_the_type(street_staff, tree, org_type, region_key):
    region = tree["communities"][0] if region_key == "community" else tree["grids"][0]
    parent = None
    if org_type != OrgType.WORKING_COMMITTEE:
        parent = services.party_org_create(
            actor=street_staff,
            name="党工委",
            org_type=OrgType.WORKING_COMMITTEE,
            region=tree["street"],
        )
        if org_type == OrgType.GRID_BRANCH:
            parent = services.party_org_create(
                actor=street_staff,
                name="社区党委",
                org_type=OrgType.COMMUNITY_COMMITTEE,
                region=tree["communities"][0],
                parent=parent,
            )
    with translation.override("en"), pytest.raises(DomainError, match="cannot cover"):
        services.party_org_create(
            actor=street_staff,
            name="错",
            org_type=org_type,
            region=region,
            parent=parent,
        )


def test_child_region_must_lie_inside_parent_region(street_staff, tree):
    wc = services.party_org_create(
        actor=street_staff,
        name="党工委",
        org_type=OrgType.WORKING_COMMITTEE,
        region=tree["street"],
    )
    cc = services.party_org_create(
        actor=street_staff,
        name="社区一党委",
        org_type=OrgType.COMMUNITY_COMMITTEE,
        region=tree["communities"][0],
        parent=wc,
    )
    other_community_grid = tree["grids"][2]
    with (
        translation.override("en"),
        pytest.raises(DomainError, match="inside the parent"),
    ):
        services.party_org_create(
            actor=street_staff,
            name="错支部",
            org_type=OrgType.GRID_BRANCH,
            region=other_community_grid,
            parent=cc,
        )


def test_duplicate_name_under_one_parent_is_a_conflict(street_staff, tree):
    wc = services.party_org_create(
        actor=street_staff,
        name="党工委",
        org_type=OrgType.WORKING_COMMITTEE,
        region=tree["street"],
    )
    kwargs = {
        "actor": street_staff,
        "name": "社区党委",
        "org_type": OrgType.COMMUNITY_COMMITTEE,
        "region": tree["communities"][0],
        "parent": wc,
    }
    services.party_org_create(**kwargs)
    with pytest.raises(Conflict) as excinfo:
        services.party_org_create(**kwargs)
    assert excinfo.value.code == "duplicate_name"


def test_community_staff_may_not_build_the_tree(community_staff, tree):
    with pytest.raises(NotAllowed):
        services.party_org_create(
            actor=community_staff,
            name="党工委",
            org_type=OrgType.WORKING_COMMITTEE,
            region=tree["street"],
        )


def test_outside_scope_region_is_refused(street_staff, other_tree):
    with pytest.raises(OutOfScope):
        services.party_org_create(
            actor=street_staff,
            name="外区党工委",
            org_type=OrgType.WORKING_COMMITTEE,
            region=other_tree["street"],
        )


def test_update_renames_and_deactivates_but_not_the_type(street_staff, tree):
    wc = services.party_org_create(
        actor=street_staff,
        name="党工委",
        org_type=OrgType.WORKING_COMMITTEE,
        region=tree["street"],
    )
    services.party_org_update(
        actor=street_staff, org_id=wc.pk, name=" 新党工委 ", is_active=False
    )
    wc.refresh_from_db()
    assert (wc.name, wc.is_active) == ("新党工委", False)
    with pytest.raises(DomainError, match="org_type"):
        services.party_org_update(
            actor=street_staff, org_id=wc.pk, org_type=OrgType.GRID_BRANCH
        )


def test_update_outside_scope_is_refused(tree, other_tree, admin_user):
    from tests.grids.factories import UserFactory

    outsider = UserFactory(role="street_staff", region=other_tree["street"])
    wc = services.party_org_create(
        actor=admin_user,
        name="党工委",
        org_type=OrgType.WORKING_COMMITTEE,
        region=tree["street"],
    )
    with pytest.raises(OutOfScope):
        services.party_org_update(actor=outsider, org_id=wc.pk, name="改")
