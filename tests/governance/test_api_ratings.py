"""Ratings and indicators in ``/api/v1/``: read-only, scoped (another
district's rating is 404, a region outside the area is 404), bad months are a
400 in the API's error format, and a page costs the same queries whatever the
number of rows."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from governance.models import GridRating
from governance.services import rate_grids
from grids.choices import RegionLevel
from tests.grids.factories import RegionFactory
from tests.tickets.factories import TicketFactory, aware
from tickets.choices import Stage, Verdict

pytestmark = pytest.mark.django_db

NOV = dt.date(2026, 11, 1)
BASE = "/api/v1/"


def api(user):
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def rated(tree, other_tree):
    for grid, verdict in zip(
        tree["grids"],
        [Verdict.SATISFIED, Verdict.SATISFIED, Verdict.DISSATISFIED, Verdict.ORDINARY],
        strict=True,
    ):
        TicketFactory(
            region=grid,
            stage=Stage.CLOSED,
            closed_at=aware(2026, 11, 20, 9, 0),
            verdict=verdict,
        )
    rate_grids(month=NOV)
    return tree


def test_ratings_of_the_month_in_scope(supervisor, rated, other_tree):
    response = api(supervisor).get(BASE + "ratings/", {"month": "2026-11"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {r["grid"] for r in rows} == {g.pk for g in rated["grids"]}
    row = rows[0]
    for field in ("score", "rating_class", "rank_in_street", "indicators", "state"):
        assert field in row
    outside = GridRating.objects.get(grid=other_tree["grids"][0], month=NOV)
    assert api(supervisor).get(f"{BASE}ratings/{outside.pk}/").status_code == 404
    inside = GridRating.objects.get(grid=rated["grids"][0], month=NOV)
    detail = api(supervisor).get(f"{BASE}ratings/{inside.pk}/").json()
    assert detail["grid_name"] == rated["grids"][0].name


def test_community_staff_see_their_grids_only(community_staff, rated):
    rows = api(community_staff).get(BASE + "ratings/", {"month": "2026-11"}).json()
    assert {r["grid"] for r in rows["results"]} == {g.pk for g in rated["grids"][:2]}
    sibling = GridRating.objects.get(grid=rated["grids"][2], month=NOV)
    assert api(community_staff).get(f"{BASE}ratings/{sibling.pk}/").status_code == 404
    outside_region = api(community_staff).get(
        BASE + "ratings/", {"month": "2026-11", "region": rated["communities"][1].pk}
    )
    assert outside_region.status_code == 404


@pytest.mark.parametrize(
    "params",
    [{}, {"month": "november"}, {"month": "2026-13"}, {"month": "2026-11-99"}],
)
def test_a_bad_month_is_400(supervisor, rated, params):
    response = api(supervisor).get(BASE + "ratings/", params)
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "extra"}


def test_best_worst_and_movers(supervisor, rated):
    client = api(supervisor)
    lists = client.get(
        BASE + "ratings/best-worst/",
        {"month": "2026-11", "region": rated["street"].pk, "count": "2"},
    ).json()
    assert len(lists["best"]) == 2 and len(lists["worst"]) == 2
    assert lists["best"][0]["score"] >= lists["worst"][0]["score"]
    assert (
        client.get(BASE + "ratings/best-worst/", {"month": "2026-11"}).status_code
        == 400
    )
    movers = client.get(BASE + "ratings/movers/", {"month": "2026-11"})
    assert movers.status_code == 200
    assert movers.json()["results"] == []  # no month before to move from


def test_ratings_are_read_only(street_staff, rated):
    rating = GridRating.objects.filter(month=NOV).first()
    client = api(street_staff)
    assert client.post(BASE + "ratings/", {}).status_code == 405
    assert client.patch(f"{BASE}ratings/{rating.pk}/", {}).status_code == 405
    assert client.delete(f"{BASE}ratings/{rating.pk}/").status_code == 405


def test_indicators_drill_down(supervisor, rated, other_tree):
    client = api(supervisor)
    response = client.get(
        BASE + "indicators/", {"region": rated["street"].pk, "month": "2026-11"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["month"] == "2026-11"
    assert {row["node_id"] for row in body["children"]} == {
        c.pk for c in rated["communities"]
    }
    for region in (other_tree["street"].pk, 987654321, "abc"):
        refused = client.get(BASE + "indicators/", {"region": region})
        assert refused.status_code == 404
    assert client.get(BASE + "indicators/").status_code == 400


def test_a_ratings_page_costs_the_same_queries(tree, supervisor):
    rate_grids(month=NOV)
    client = api(supervisor)
    client.get(BASE + "ratings/", {"month": "2026-11"})

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(BASE + "ratings/", {"month": "2026-11"})
            assert response.status_code == 200
        return len(queries), len(response.json()["results"])

    small, rows = count()
    for n in range(6):  # more grids in the supervisor's district
        RegionFactory(
            name=f"新网格{n}", level=RegionLevel.GRID, parent=tree["communities"][n % 2]
        )
    GridRating.objects.all().delete()
    rate_grids(month=NOV)
    assert count() == (small, rows + 6)


def test_anonymous_is_refused(client):
    assert client.get(BASE + "ratings/", {"month": "2026-11"}).status_code in (401, 403)
