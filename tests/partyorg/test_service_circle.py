"""The 15-minute service circle on hand-built points with a known answer."""

from decimal import Decimal

import pytest

from grids.choices import RegionLevel, UserRole
from partyorg.sites.models import ServiceSite, SiteKind
from partyorg.sites.selectors import (
    circle_radius_m,
    community_map,
    haversine_m,
    service_circle_by_community,
)
from tests.grids.factories import RegionFactory, UserFactory

LAT, LON = 36.680000, 117.000000
METRES_PER_DEGREE_LAT = 6_371_000 * 3.141592653589793 / 180  # ≈ 111,195 m


def _north(metres: float) -> Decimal:
    return Decimal(f"{LAT + metres / METRES_PER_DEGREE_LAT:.6f}")


def _building(grid, name, metres_north=None):
    return RegionFactory(
        name=name,
        level=RegionLevel.BUILDING,
        parent=grid,
        latitude=None if metres_north is None else _north(metres_north),
        longitude=None if metres_north is None else Decimal(f"{LON:.6f}"),
    )


def test_radius_is_15_minutes_at_5_kmh_over_the_detour_factor(settings):
    settings.SERVICE_CIRCLE_MINUTES = 15
    settings.SERVICE_CIRCLE_WALK_KMH = 5
    settings.SERVICE_CIRCLE_DETOUR_FACTOR = 1.25
    assert circle_radius_m() == pytest.approx(1000.0)
    assert haversine_m(LAT, LON, float(_north(1000)), LON) == pytest.approx(
        1000, abs=0.2
    )


def test_share_of_buildings_within_the_circle(tree, settings, community_staff):
    settings.SERVICE_CIRCLE_MINUTES = 15
    settings.SERVICE_CIRCLE_WALK_KMH = 5
    settings.SERVICE_CIRCLE_DETOUR_FACTOR = 1.25  # radius exactly 1,000 m
    grid, other_grid = tree["grids"][0], tree["grids"][2]
    ServiceSite.objects.create(
        name="党群服务中心",
        kind=SiteKind.PARTY_MASS_CENTRE,
        region=tree["communities"][0],
        address="中心路1号",
        latitude=Decimal(f"{LAT:.6f}"),
        longitude=Decimal(f"{LON:.6f}"),
    )
    ServiceSite.objects.create(  # closed: counts for nothing
        name="旧驿站",
        kind=SiteKind.GRID_STATION,
        region=grid,
        address="x",
        latitude=_north(3000),
        longitude=Decimal(f"{LON:.6f}"),
        is_active=False,
    )
    for name, metres in (
        ("1号楼", 100),
        ("2号楼", 990),
        ("3号楼", 1010),
        ("4号楼", 2500),
    ):
        _building(grid, name, metres)
    _building(grid, "5号楼")  # no point: not in the share
    # The other community: one building 500 m from the same site (a site
    # serves whoever lives near it), one far away.
    _building(other_grid, "6号楼", 500)
    _building(other_grid, "7号楼", 5000)
    # The tree moved under the fixtures' cached nodes: read them again.
    for node in [tree["street"], *tree["communities"]]:
        node.refresh_from_db()
    community_staff.region.refresh_from_db()

    street_staff = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    rows = {r["name"]: r for r in service_circle_by_community(actor=street_staff)}
    first = rows[tree["communities"][0].name]
    assert (first["buildings"], first["located"], first["covered"]) == (5, 4, 2)
    assert first["share"] == 50.0
    second = rows[tree["communities"][1].name]
    assert (second["located"], second["covered"], second["share"]) == (2, 1, 50.0)

    # Scope: community staff see their own community only.
    own = service_circle_by_community(actor=community_staff)
    assert [r["name"] for r in own] == [tree["communities"][0].name]
    assert (
        community_map(actor=community_staff, community_id=tree["communities"][1].pk)
        is None
    )
    drawn = community_map(actor=community_staff, community_id=tree["communities"][0].pk)
    covered = {b["name"]: b["covered"] for b in drawn["buildings"]}
    assert covered == {"1号楼": True, "2号楼": True, "3号楼": False, "4号楼": False}
    assert all(0 <= b["x"] <= 1000 and 0 <= b["y"] <= 1000 for b in drawn["buildings"])


def test_sites_are_kept_by_staff_of_the_area(tree, community_staff, grid_worker):
    from grids.errors import NotAllowed, OutOfScope
    from partyorg.sites.services import service_site_create, service_site_update

    fields = {
        "name": "红色驿站",
        "kind": SiteKind.GRID_STATION,
        "address": "幸福路2号",
        "latitude": Decimal("36.1"),
        "longitude": Decimal("117.1"),
        "opening_hours": "9:00-17:00",
    }
    site = service_site_create(actor=community_staff, region=tree["grids"][0], **fields)
    with pytest.raises(NotAllowed):
        service_site_create(actor=grid_worker, region=tree["grids"][0], **fields)
    with pytest.raises(OutOfScope):
        service_site_create(actor=community_staff, region=tree["grids"][2], **fields)
    other = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])
    with pytest.raises(OutOfScope):
        service_site_update(actor=other, site_id=site.pk, name="改名")
    service_site_update(actor=community_staff, site_id=site.pk, name="改名")
    site.refresh_from_db()
    assert site.name == "改名"


def test_circle_pages_and_another_communitys_map(client, tree, community_staff):
    from django.urls import reverse

    client.force_login(community_staff)
    page = client.get(reverse("partyorg:service_circle"))
    assert page.status_code == 200
    body = page.content.decode()
    assert tree["communities"][0].name in body
    assert tree["communities"][1].name not in body
    own = reverse("partyorg:service_circle_map", args=[tree["communities"][0].pk])
    other = reverse("partyorg:service_circle_map", args=[tree["communities"][1].pk])
    assert client.get(own).status_code == 200
    assert client.get(other).status_code == 404
