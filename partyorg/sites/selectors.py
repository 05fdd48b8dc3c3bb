"""The 15-minute service circle (seed 002): for each community, the share of
its buildings (Regions of level building with a point) within 15 minutes' walk
of an active service site.

Walking distance is approximated, and stated in settings and docs: the
straight-line (haversine) distance times a detour factor
(``SERVICE_CIRCLE_DETOUR_FACTOR``, 1.3) at ``SERVICE_CIRCLE_WALK_KMH`` (5 km/h)
for ``SERVICE_CIRCLE_MINUTES`` (15): 15 min at 5 km/h is 1,250 m of walking, so
a site within 1,250 / 1.3 ≈ 962 m in a straight line covers the building. One
query: each building asks EXISTS(a site within the radius), after a bounding
box on latitude and longitude.
"""

import math

from django.conf import settings
from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import (
    ASin,
    Cast,
    Coalesce,
    Cos,
    Power,
    Radians,
    Sin,
    Sqrt,
)

from grids.choices import RegionLevel
from grids.models import Region

from .models import ServiceSite

EARTH_RADIUS_M = 6_371_000


def circle_radius_m() -> float:
    """The straight-line radius of the circle, in metres."""
    minutes = float(getattr(settings, "SERVICE_CIRCLE_MINUTES", 15))
    kmh = float(getattr(settings, "SERVICE_CIRCLE_WALK_KMH", 5))
    detour = float(getattr(settings, "SERVICE_CIRCLE_DETOUR_FACTOR", 1.3))
    return kmh * 1000 / 60 * minutes / detour


def haversine_m(lat1, lon1, lat2, lon2) -> float:
    """The same distance in Python (for the page's map and the tests)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def _f(expression):
    return Cast(expression, FloatField())


def _within_radius(radius: float):
    """EXISTS(an active site within ``radius`` metres of the outer building)."""
    lat, lon = _f(OuterRef("latitude")), _f(OuterRef("longitude"))
    site_lat, site_lon = _f(F("latitude")), _f(F("longitude"))
    half_dlat = (Radians(site_lat) - Radians(lat)) / 2
    half_dlon = (Radians(site_lon) - Radians(lon)) / 2
    a = Power(Sin(half_dlat), 2) + Cos(Radians(lat)) * Cos(Radians(site_lat)) * Power(
        Sin(half_dlon), 2
    )
    distance = Value(2.0 * EARTH_RADIUS_M) * ASin(Sqrt(a))
    degrees = radius / 111_000 + 0.001  # the bounding box, a little generous
    sites = (
        ServiceSite.objects.active()
        .filter(
            latitude__gte=OuterRef("latitude") - degrees,
            latitude__lte=OuterRef("latitude") + degrees,
        )
        .annotate(distance=distance)
        .filter(distance__lte=radius)
    )
    return Exists(sites)


def _buildings_of_community(**extra):
    return Region.objects.filter(
        tree_id=OuterRef("tree_id"),
        lft__gt=OuterRef("lft"),
        rght__lt=OuterRef("rght"),
        level=RegionLevel.BUILDING,
        is_active=True,
        **extra,
    )


def _count(queryset):
    return Coalesce(
        Subquery(
            queryset.order_by()
            .values("tree_id")
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def service_circle_by_community(*, actor) -> list[dict]:
    """Per community in the actor's area: buildings, buildings with a point,
    those covered, and the covered share of those with a point (None without
    any)."""
    radius = circle_radius_m()
    located = _buildings_of_community(latitude__isnull=False, longitude__isnull=False)
    rows = (
        Region.objects.visible_to(actor)
        .filter(level=RegionLevel.COMMUNITY)
        .annotate(
            buildings=_count(_buildings_of_community()),
            located=_count(located),
            covered=_count(located.filter(_within_radius(radius))),
        )
        .order_by("tree_id", "lft")
        .values("pk", "name", "buildings", "located", "covered")
    )
    result = []
    for row in rows:
        row["share"] = (
            round(100 * row["covered"] / row["located"], 1) if row["located"] else None
        )
        result.append(row)
    return result


def community_map(*, actor, community_id: int) -> dict | None:
    """The points of one community for the SVG map: its buildings (covered or
    not) and the active sites near it, projected onto a 0–1000 square."""
    community = (
        Region.objects.visible_to(actor)
        .filter(pk=community_id, level=RegionLevel.COMMUNITY)
        .first()
    )
    if community is None:
        return None
    radius = circle_radius_m()
    buildings = list(
        Region.objects.filter(
            Q(tree_id=community.tree_id)
            & Q(lft__gt=community.lft, rght__lt=community.rght),
            level=RegionLevel.BUILDING,
            is_active=True,
            latitude__isnull=False,
            longitude__isnull=False,
        )
        .annotate(covered=_within_radius(radius))
        .values("name", "latitude", "longitude", "covered")[:2000]
    )
    sites = list(
        ServiceSite.objects.active()
        .filter(Q(region=community) | Q(region__parent=community))
        .values("name", "kind", "latitude", "longitude")[:200]
    )
    points = [(float(p["latitude"]), float(p["longitude"])) for p in buildings + sites]
    if not points:
        return {"community": community, "buildings": [], "sites": [], "radius": 0}
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    mid_lat = (min(lats) + max(lats)) / 2
    # Metres per degree, so the map keeps its proportions.
    m_lat, m_lon = 111_195, 111_195 * math.cos(math.radians(mid_lat))
    span = max((max(lats) - min(lats)) * m_lat, (max(lons) - min(lons)) * m_lon, 1)
    span += 2 * radius / 4  # a margin

    def xy(lat, lon):
        x = 500 + ((float(lon) - (min(lons) + max(lons)) / 2) * m_lon) / span * 1000
        y = 500 - ((float(lat) - mid_lat) * m_lat) / span * 1000
        return round(x, 1), round(y, 1)

    for row in buildings + sites:
        row["x"], row["y"] = xy(row["latitude"], row["longitude"])
    return {
        "community": community,
        "buildings": buildings,
        "sites": sites,
        "radius": round(radius / span * 1000, 1),
    }
