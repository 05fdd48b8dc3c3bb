"""Demo service sites and building points for ``seed_demo`` (listed as
``partyorg.sites`` in its DEMO_APPS, after the grids demo).

The grids demo opens buildings without a point; here every building still
without one gets a plausible, deterministic point (through
``grids.services.region_update``): communities 2–2.5 km apart around the
district's centre, each community's grids on a ring around it at 300 m,
450 m, … from its centre, a grid's buildings 60 m apart. Each community gets a
党群服务中心 at its centre, every other community a 网格驿站 in its farthest
grid, every third a 新时代文明实践站 in its second grid, so the 15-minute
circle page shows a real coverage figure (the far grids of some communities lie
outside the circle) and a map. Idempotent: points only where none, sites only
when there is none."""

import math
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from grids.choices import RegionLevel
from grids.models import Region
from grids.services import region_update

from .models import ServiceSite, SiteKind
from .services import service_site_create

CENTRE = (36.666, 117.076)  # the demo district's point (历下区)
METRES_PER_DEGREE = 111_000
SITE_ADDRESS = {
    SiteKind.PARTY_MASS_CENTRE: "居委会一楼",
    SiteKind.GRID_STATION: "小区东门旁",
    SiteKind.CIVILISATION_STATION: "文化广场北侧",
}


def _offset(point, north_m: float, east_m: float) -> tuple[float, float]:
    lat, lon = point
    return (
        lat + north_m / METRES_PER_DEGREE,
        lon + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat))),
    )


def _decimal(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def community_centre(index: int) -> tuple[float, float]:
    """Communities on a grid of four columns, 2.5 km east-west, 2 km north-south."""
    return _offset(CENTRE, (index // 4 - 0.5) * 2000, (index % 4 - 1.5) * 2500)


def grid_centre(community_point, index: int, count: int) -> tuple[float, float]:
    angle = 2 * math.pi * index / max(count, 1)
    distance = 300 + 150 * index
    return _offset(
        community_point, distance * math.sin(angle), distance * math.cos(angle)
    )


def building_point(grid_point, index: int) -> tuple[float, float]:
    return _offset(grid_point, (index % 2) * 50, (index - 2) * 60)


def _layout():
    """(community, its point, [(grid, its point, [buildings])]) in tree order."""
    communities = Region.objects.filter(level=RegionLevel.COMMUNITY).order_by(
        "tree_id", "lft"
    )
    grids = {}
    for grid in Region.objects.filter(level=RegionLevel.GRID).order_by(
        "tree_id", "lft"
    ):
        grids.setdefault(grid.parent_id, []).append(grid)
    buildings = {}
    for building in Region.objects.filter(level=RegionLevel.BUILDING).order_by(
        "tree_id", "lft"
    ):
        buildings.setdefault(building.parent_id, []).append(building)
    for c, community in enumerate(communities):
        point = community_centre(c)
        rows = grids.get(community.pk, [])
        yield (
            community,
            point,
            [
                (grid, grid_centre(point, g, len(rows)), buildings.get(grid.pk, []))
                for g, grid in enumerate(rows)
            ],
        )


def seed(*, stdout, rng, small: bool = False) -> None:
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None or not Region.objects.filter(level=RegionLevel.COMMUNITY).exists():
        stdout.write("partyorg.sites: no communities yet, nothing to do")
        return
    pointed = created = 0
    with transaction.atomic():
        layout = list(_layout())
        for _community, _point, grids in layout:
            for _grid, grid_point, buildings in grids:
                for b, building in enumerate(buildings):
                    if building.latitude is not None:
                        continue
                    lat, lon = building_point(grid_point, b)
                    region_update(
                        actor=admin,
                        region_id=building.pk,
                        latitude=_decimal(lat),
                        longitude=_decimal(lon),
                    )
                    pointed += 1
        if not ServiceSite.objects.exists():
            for c, (community, point, grids) in enumerate(layout):
                for kind, region, at, name in _sites(c, community, point, grids):
                    service_site_create(
                        actor=admin,
                        name=name,
                        kind=kind,
                        region=region,
                        address=f"{region.name}{SITE_ADDRESS[kind]}",
                        latitude=_decimal(at[0]),
                        longitude=_decimal(at[1]),
                        opening_hours="周一至周日 8:30-17:30",
                        services="政策咨询、便民服务、党员活动、志愿服务",
                    )
                    created += 1
    stdout.write(
        f"partyorg.sites: {pointed} building points set, {created} service sites"
        if pointed or created
        else "partyorg.sites: points and sites exist, nothing to do"
    )


def _sites(c, community, point, grids):
    short = community.name.removesuffix("社区")
    yield SiteKind.PARTY_MASS_CENTRE, community, point, f"{short}党群服务中心"
    if c % 2 == 0 and grids:
        grid, grid_point, _ = grids[-1]
        yield SiteKind.GRID_STATION, grid, grid_point, f"{short}红色驿站"
    if c % 3 == 0 and len(grids) > 1:
        grid, grid_point, _ = grids[1]
        yield (
            SiteKind.CIVILISATION_STATION,
            grid,
            grid_point,
            f"{short}新时代文明实践站",
        )
