import pytest

from grids import services
from grids.choices import RegionLevel
from grids.errors import DomainError, NotAllowed, OutOfScope
from grids.models import Region


def test_street_staff_creates_community_and_grid_with_codes(admin_user):
    district = services.region_create(
        actor=admin_user, name="历下区", level=RegionLevel.DISTRICT, code="370102"
    )
    street = services.region_create(
        actor=admin_user,
        parent=district,
        name="泉城路街道",
        level=RegionLevel.STREET,
        code="370102001",
    )
    community = services.region_create(
        actor=admin_user,
        parent=street,
        name="芙蓉社区",
        level=RegionLevel.COMMUNITY,
        code="370102001002",
    )
    grid = services.region_create(
        actor=admin_user,
        parent=community,
        name="第一网格",
        level=RegionLevel.GRID,
        code="370102001002003",
    )
    assert grid.get_ancestors().count() == 3
    street.refresh_from_db()  # MPTT columns of an earlier-loaded node go stale
    assert list(Region.objects.in_subtree(street).values_list("name", flat=True)) == [
        "泉城路街道",
        "芙蓉社区",
        "第一网格",
    ]


@pytest.mark.parametrize(
    ("parent_key", "level"),
    [
        ("street", RegionLevel.GRID),
        ("district", RegionLevel.COMMUNITY),
        ("grid", RegionLevel.STREET),
    ],
)
def test_illegal_parent_is_refused(tree, street_staff, admin_user, parent_key, level):
    parent = tree["grids"][0] if parent_key == "grid" else tree[parent_key]
    with pytest.raises(DomainError):
        services.region_create(actor=admin_user, parent=parent, name="错", level=level)
    assert not Region.objects.filter(name="错").exists()


def test_code_must_extend_parent_code(admin_user):
    district = services.region_create(
        actor=admin_user, name="区", level=RegionLevel.DISTRICT, code="370102"
    )
    with pytest.raises(DomainError, match="370102"):
        services.region_create(
            actor=admin_user,
            parent=district,
            name="街",
            level=RegionLevel.STREET,
            code="370103001",
        )
    with pytest.raises(DomainError):
        services.region_create(
            actor=admin_user,
            parent=district,
            name="街",
            level=RegionLevel.STREET,
            code="3701020011",
        )


def test_community_staff_may_not_change_the_tree(tree, community_staff):
    with pytest.raises(NotAllowed):
        services.region_create(
            actor=community_staff,
            parent=tree["communities"][0],
            name="新网格",
            level=RegionLevel.GRID,
        )


def test_street_staff_cannot_create_outside_scope(street_staff, other_tree):
    with pytest.raises(OutOfScope):
        services.region_create(
            actor=street_staff,
            parent=other_tree["communities"][0],
            name="越界",
            level=RegionLevel.GRID,
        )


def test_move_subtree_keeps_tree_valid_and_recodes(admin_user):
    d = services.region_create(
        actor=admin_user, name="区", level=RegionLevel.DISTRICT, code="370102"
    )
    s1 = services.region_create(
        actor=admin_user,
        parent=d,
        name="甲街道",
        level=RegionLevel.STREET,
        code="370102001",
    )
    s2 = services.region_create(
        actor=admin_user,
        parent=d,
        name="乙街道",
        level=RegionLevel.STREET,
        code="370102002",
    )
    c = services.region_create(
        actor=admin_user,
        parent=s1,
        name="社区",
        level=RegionLevel.COMMUNITY,
        code="370102001005",
    )
    g = services.region_create(
        actor=admin_user,
        parent=c,
        name="网格",
        level=RegionLevel.GRID,
        code="370102001005007",
    )

    services.region_move(actor=admin_user, region_id=c.pk, new_parent_id=s2.pk)

    c.refresh_from_db()
    g.refresh_from_db()
    assert c.parent_id == s2.pk
    assert c.code == "370102002005"
    assert g.code == "370102002005007"
    assert g.get_ancestors().filter(pk=s2.pk).exists()
    # the MPTT columns are consistent: a rebuild changes nothing
    before = list(
        Region.objects.order_by("pk").values_list("pk", "lft", "rght", "tree_id")
    )
    Region.objects.rebuild()
    assert (
        list(Region.objects.order_by("pk").values_list("pk", "lft", "rght", "tree_id"))
        == before
    )


def test_move_under_own_descendant_is_refused(tree, admin_user):
    with pytest.raises(DomainError):
        services.region_move(
            actor=admin_user,
            region_id=tree["street"].pk,
            new_parent_id=tree["communities"][0].pk,
        )


def test_move_to_illegal_level_is_refused(tree, admin_user):
    with pytest.raises(DomainError):
        services.region_move(
            actor=admin_user,
            region_id=tree["grids"][0].pk,
            new_parent_id=tree["street"].pk,
        )
    tree["grids"][0].refresh_from_db()
    assert tree["grids"][0].parent_id == tree["communities"][0].pk


def test_ancestor_of_level(tree, admin_user):
    from grids.models import Region

    grid = Region.objects.get(pk=tree["grids"][0].pk)
    building = services.region_create(
        actor=admin_user, parent=grid, name="1号楼", level=RegionLevel.BUILDING
    )
    assert building.ancestor_of_level(RegionLevel.COMMUNITY) == tree["communities"][0]
    assert building.ancestor_of_level(RegionLevel.STREET) == tree["street"]
    assert building.ancestor_of_level(RegionLevel.BUILDING) == building
    assert tree["district"].ancestor_of_level(RegionLevel.STREET) is None
