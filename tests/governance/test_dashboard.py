"""The supervisors' dashboard (governance.dashboard, views_dashboard): the page
for a node of the user's area, its scope, its downloads, its summary rows
against a recomputation from the raw rows, and its query bound."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Count
from django.urls import reverse
from openpyxl import load_workbook

from governance.dashboard import (
    SUMMARY_LEVELS,
    dashboard,
    indicator_months_refresh,
    recent_months_refresh,
    summary_rows,
)
from governance.dashboard_models import IndicatorMonth
from governance.indicators import indicators_for_nodes
from governance.models import GridRating
from governance.services import rate_grids
from grids.choices import RegionLevel, UserRole
from grids.errors import OutOfScope
from grids.models import Region
from tests.grids.factories import RegionFactory, UserFactory
from tests.tickets.factories import CategoryFactory, TicketFactory, aware
from tickets.choices import ClosingLevel, Stage, Verdict
from tickets.models import Ticket

NOV = dt.date(2026, 11, 1)
OCT = dt.date(2026, 10, 1)
NOW = "2026-11-20T10:00:00+08:00"


def _tickets(grid, category, *, month_day=(2026, 11, 5), count=3, **kw):
    """``count`` tickets received, dispatched, handled and closed in the month
    (one of each verdict), and one still open and overdue."""
    received = aware(*month_day, 9, 0)
    rows = []
    verdicts = (Verdict.SATISFIED, Verdict.ORDINARY, Verdict.DISSATISFIED)
    for i in range(count):
        rows.append(
            TicketFactory(
                region=grid,
                category=category,
                received_at=received,
                dispatched_at=received,
                accepted_on_time=i % 2 == 0,
                handling_due_at=received + dt.timedelta(days=7),
                handled_at=received + dt.timedelta(days=2),
                closed_at=received + dt.timedelta(days=3),
                stage=Stage.CLOSED,
                verdict=verdicts[i % 3],
                closing_level=ClosingLevel.GRID if i % 2 else ClosingLevel.COMMUNITY,
                **kw,
            )
        )
    rows.append(
        TicketFactory(
            region=grid,
            category=category,
            received_at=received,
            stage=Stage.DISPATCHED,
            stage_deadline=received + dt.timedelta(days=1),
            dispatched_at=received,
            escalation_level=1,
        )
    )
    return rows


@pytest.fixture
def data(tree, other_tree):
    """Tickets in November and October in both communities and in another
    district, and the ratings of both months."""
    fee = CategoryFactory(name="物业纠纷")
    road = CategoryFactory(name="=HYPERLINK(1)")  # a hostile category name
    for grid in tree["grids"]:
        _tickets(grid, fee)
        _tickets(grid, road, month_day=(2026, 10, 8), count=2)
    _tickets(tree["grids"][3], road, count=5)
    _tickets(other_tree["grids"][0], fee, count=4)
    with time_machine.travel(NOW, tick=False):
        rate_grids(month=OCT)
        rate_grids(month=NOV)
    # The rating job wrote the grids' summaries of both months: the tests start
    # from none, as before the first refresh.
    IndicatorMonth.objects.all().delete()
    return {"fee": fee, "road": road}


def _url(region, **params):
    url = reverse("dashboard:region", args=[region.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


# ------------------------------------------------------------------- pages


@time_machine.travel(NOW, tick=False)
def test_a_supervisor_sees_the_district_page_with_every_block(
    client, tree, supervisor, data
):
    client.force_login(supervisor)
    response = client.get(_url(tree["district"], month="2026-11"))
    assert response.status_code == 200
    body = response.content.decode()
    # Chinese by default; each chart with its table and downloads.
    for key in (
        "trends",
        "stages",
        "categories",
        "rates",
        "closure",
        "coverage",
        "points",
        "classes",
        "children",
    ):
        assert f'id="chart-{key}"' in body
        assert f'id="table-{key}"' in body
        assert f"table={key}&amp;format=xlsx" in body
    assert 'id="dashboard-charts"' in body and 'id="dashboard-map"' in body
    assert "echarts.min.js" in body and "<script>" not in body  # no inline script
    figures = response.context["headline"]
    received = next(f for f in figures if f["key"] == "received")
    # 4 grids × (3 + 1 open) + 5 + 1 more in grid 3 = 22 received in November.
    assert received["value"] == 22
    # October: 4 grids × (2 + 1).
    assert received["previous"] == 12 and received["change"] == 10
    assert response.context["overdue_count"].value == 4 * 2 + 1
    assert len(response.context["escalated"]) == 9
    # The children: the district's one street, linked to its own page.
    assert _url(tree["street"], month="2026-11") in body


@time_machine.travel(NOW, tick=False)
def test_drill_down_street_community_grid_uses_the_same_page(
    client, tree, supervisor, data
):
    client.force_login(supervisor)
    for node in (tree["street"], tree["communities"][1], tree["grids"][3]):
        response = client.get(_url(node, month="2026-11"))
        assert response.status_code == 200
        assert response.context["region"] == node
    received = response.context["headline"][0]
    assert received["value"] == 4 + 6  # the grid's own November tickets
    # A grid has no children: no drill-down table.
    assert all(t.key != "children" for t in response.context["tables"])


@time_machine.travel(NOW, tick=False)
def test_community_staff_cannot_open_another_community_or_see_its_scores(
    client, tree, community_staff, data
):
    client.force_login(community_staff)
    mine, theirs = tree["communities"]
    assert client.get(_url(theirs)).status_code == 404
    assert client.get(_url(tree["grids"][3])).status_code == 404
    assert client.get(_url(tree["street"])).status_code == 404
    export = reverse("dashboard:export", args=[theirs.pk])
    assert client.get(export + "?table=rates&format=csv").status_code == 404
    response = client.get(_url(mine, month="2026-11"))
    assert response.status_code == 200
    their_ratings = GridRating.objects.filter(grid__parent=theirs, month=NOV)
    shown = {r.pk for r in response.context["best"] + response.context["worst"]}
    assert shown and not shown & {r.pk for r in their_ratings}
    body = response.content.decode()
    for grid in tree["grids"][2:]:
        assert grid.name not in body
    # The selector refuses it too, whatever the page does.
    with pytest.raises(OutOfScope):
        dashboard(actor=community_staff, region=theirs, month=NOV)


@time_machine.travel(NOW, tick=False)
def test_another_district_is_out_of_reach(client, other_tree, supervisor, data):
    client.force_login(supervisor)
    assert client.get(_url(other_tree["district"])).status_code == 404
    assert client.get(_url(other_tree["grids"][0])).status_code == 404


def test_grid_workers_have_no_dashboard(client, tree, grid_worker):
    client.force_login(grid_worker)
    assert client.get(_url(tree["grids"][0])).status_code == 403
    assert client.get(reverse("dashboard:home")).status_code == 403


def test_home_opens_the_users_own_node(client, tree, street_staff, admin_user):
    client.force_login(street_staff)
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 302
    assert response["Location"] == _url(tree["street"])
    client.force_login(admin_user)
    response = client.get(reverse("dashboard:home"))
    assert response["Location"] == _url(tree["district"])


@pytest.mark.parametrize(
    ("month", "status"),
    [
        ("", 200),
        ("2026-13", 200),  # malformed: this month
        ("x" * 5000, 200),
        ("２０２６-11", 200),
        ("1900-01", 404),
        ("2026-11", 200),
    ],
)
def test_bad_months_fall_back_or_404(client, tree, supervisor, month, status):
    client.force_login(supervisor)
    assert client.get(_url(tree["street"], month=month)).status_code == status


def test_a_missing_region_is_404(client, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("dashboard:region", args=[999_999_999]))
    assert response.status_code == 404


def test_the_dashboard_is_linked_from_the_admin_index(
    client, tree, supervisor, grid_worker
):
    client.force_login(supervisor)
    body = client.get(reverse("admin:index")).content.decode()
    assert reverse("dashboard:home") in body
    from governance.reports import report_links

    assert all(
        link.url != reverse("dashboard:home") for link in report_links(grid_worker)
    )


# ---------------------------------------------------------------- downloads


@time_machine.travel(NOW, tick=False)
def test_csv_and_excel_downloads_hold_the_tables_numbers_safely(
    client, tree, supervisor, data
):
    client.force_login(supervisor)
    export = reverse("dashboard:export", args=[tree["district"].pk])
    response = client.get(export + "?table=categories&format=csv&month=2026-11")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    counts = {name: int(n) for name, n in rows[1:]}
    # The hostile name stays text: an apostrophe before the "=".
    assert counts == {"物业纠纷": 4 * 4, "'=HYPERLINK(1)": 5 + 1}
    response = client.get(export + "?table=trends&format=xlsx&month=2026-11")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert len(values) == 1 + 12
    assert values[-1][0] == "2026-11" and values[-1][1] == 22
    assert values[-2][0] == "2026-10" and values[-2][1] == 12
    for bad in ("?table=nope&format=csv", "?table=rates&format=exe", "?format=csv"):
        assert client.get(export + bad).status_code == 404


# ------------------------------------------------------------------ summaries


def _raw_breakdown(node, month_start, month_end):
    column = {
        RegionLevel.DISTRICT: "place_district_id",
        RegionLevel.STREET: "place_street_id",
        RegionLevel.COMMUNITY: "place_community_id",
        RegionLevel.GRID: "place_grid_id",
    }[node.level]
    tickets = Ticket.objects.filter(
        **{column: node.pk},
        received_at__gte=month_start,
        received_at__lt=month_end,
    )
    by_stage = dict(tickets.values_list("stage").annotate(n=Count("pk")).order_by())
    by_category = {
        str(pk) if pk else "": n
        for pk, n in tickets.exclude(stage=Stage.MERGED)
        .values_list("category_id")
        .annotate(n=Count("pk"))
        .order_by()
    }
    return by_category, by_stage


@time_machine.travel(NOW, tick=False)
def test_summary_rows_equal_a_recomputation_from_the_raw_rows(tree, other_tree, data):
    # A merged duplicate and a ticket without category count apart.
    TicketFactory(
        region=tree["grids"][0], received_at=aware(2026, 11, 6, 9, 0), stage="merged"
    )
    TicketFactory(region=tree["grids"][1], received_at=aware(2026, 11, 6, 9, 0))
    written = indicator_months_refresh(month=NOV)
    nodes = Region.objects.filter(level__in=SUMMARY_LEVELS, is_active=True)
    assert written == nodes.count() == IndicatorMonth.objects.count()
    for node in nodes:
        stored = IndicatorMonth.objects.get(region=node, month=NOV)
        [fresh] = indicators_for_nodes(node_ids=[node.pk], month=NOV)
        for key, value in stored.counts.items():
            if key == "service_hours":
                fresh_hours = fresh[key]
                assert value == (None if fresh_hours is None else str(fresh_hours))
            else:
                assert value == fresh[key], (node, key)
        by_category, by_stage = _raw_breakdown(
            node, aware(2026, 11, 1, 0, 0), aware(2026, 12, 1, 0, 0)
        )
        assert stored.by_category == by_category
        assert stored.by_stage == by_stage
    district = IndicatorMonth.objects.get(region=tree["district"], month=NOV)
    assert district.counts["received"] == 22 + 1  # the merged one left out
    assert district.by_stage["merged"] == 1
    assert district.by_category[""] == 1


@time_machine.travel(NOW, tick=False)
def test_the_rating_job_writes_the_months_summaries_from_its_own_pass(
    tree, other_tree, data
):
    """rate_grids writes every active grid's summary of the rated month from
    its indicator pass (published streets' grids included), equal to a
    recomputation from the raw rows; its task then the levels above; the
    result equals indicator_months_refresh's."""
    from governance.models import RatingPublication
    from governance.tasks import rate_grids_task

    TicketFactory(
        region=tree["grids"][0], received_at=aware(2026, 11, 6, 9, 0), stage="merged"
    )
    TicketFactory(region=tree["grids"][1], received_at=aware(2026, 11, 6, 9, 0))
    grids = Region.objects.filter(level=RegionLevel.GRID, is_active=True)
    rate_grids(month=NOV)
    assert IndicatorMonth.objects.filter(month=NOV).count() == grids.count()
    # A stale row is replaced, and a published street's grids still refreshed.
    IndicatorMonth.objects.filter(region=tree["grids"][0]).update(counts={})
    RatingPublication.objects.create(
        street=other_tree["street"],
        month=NOV,
        published_by=UserFactory(role=UserRole.STREET_STAFF),
        published_at=NOW,
    )
    rate_grids(month=NOV)
    for grid in grids:
        stored = IndicatorMonth.objects.get(region=grid, month=NOV)
        [fresh] = summary_rows(node_ids=[grid.pk], month=NOV, level=RegionLevel.GRID)
        assert stored.counts == fresh.counts, grid
        assert stored.by_category == fresh.by_category
        assert stored.by_stage == fresh.by_stage
        assert (stored.by_category, stored.by_stage) == _raw_breakdown(
            grid, aware(2026, 11, 1, 0, 0), aware(2026, 12, 1, 0, 0)
        )
    assert IndicatorMonth.objects.get(region=tree["grids"][0]).by_stage["merged"] == 1
    rate_grids_task("2026-11-01")
    from_job = {
        row.region_id: (row.counts, row.by_category, row.by_stage)
        for row in IndicatorMonth.objects.filter(month=NOV)
    }
    assert indicator_months_refresh(month=NOV) == len(from_job)
    assert from_job == {
        row.region_id: (row.counts, row.by_category, row.by_stage)
        for row in IndicatorMonth.objects.filter(month=NOV)
    }


@time_machine.travel(NOW, tick=False)
def test_the_page_from_summaries_equals_the_page_from_raw_rows(tree, supervisor, data):
    live = dashboard(actor=supervisor, region=tree["street"], month=NOV)
    assert live["as_of"] is None
    indicator_months_refresh(month=NOV)
    indicator_months_refresh(month=OCT)
    for month in range(1, 10):
        indicator_months_refresh(month=dt.date(2026, month, 1))
    indicator_months_refresh(month=dt.date(2025, 12, 1))
    stored = dashboard(actor=supervisor, region=tree["street"], month=NOV)
    assert stored["as_of"] is not None
    assert [t.as_json() for t in stored["tables"]] == [
        t.as_json() for t in live["tables"]
    ]
    assert stored["headline"] == live["headline"]


@time_machine.travel(NOW, tick=False)
def test_refresh_is_idempotent_and_follows_new_tickets(tree, data):
    first = indicator_months_refresh(month=NOV)
    assert indicator_months_refresh(month=NOV) == first
    assert IndicatorMonth.objects.filter(month=NOV).count() == first
    TicketFactory(region=tree["grids"][0], received_at=aware(2026, 11, 9, 9, 0))
    recent_months_refresh()
    row = IndicatorMonth.objects.get(region=tree["grids"][0], month=NOV)
    assert row.counts["received"] == 4 + 1
    assert IndicatorMonth.objects.filter(month=OCT).count() == first


@time_machine.travel(NOW, tick=False)
def test_refresh_under_a_region_touches_only_its_subtree(tree, other_tree, data):
    written = indicator_months_refresh(month=NOV, region=tree["communities"][0])
    assert written == 1 + 2
    assert set(IndicatorMonth.objects.values_list("region_id", flat=True)) == {
        tree["communities"][0].pk,
        *(g.pk for g in tree["grids"][:2]),
    }


def test_the_hourly_task_refreshes_the_running_and_last_month(tree):
    from governance.tasks import dashboard_refresh_task

    with time_machine.travel(NOW, tick=False):
        written = dashboard_refresh_task()
    assert written == 2 * Region.objects.filter(level__in=SUMMARY_LEVELS).count()
    assert set(IndicatorMonth.objects.values_list("month", flat=True)) == {NOV, OCT}


# ------------------------------------------------------------------ queries


def _street_with_grids(n: int):
    district = RegionFactory(name=f"区{n}", level=RegionLevel.DISTRICT)
    street = RegionFactory(name=f"街道{n}", level=RegionLevel.STREET, parent=district)
    community = RegionFactory(
        name=f"社区{n}", level=RegionLevel.COMMUNITY, parent=street
    )
    category = CategoryFactory()
    grids = [
        RegionFactory(
            name=f"网格{n}-{i}",
            level=RegionLevel.GRID,
            parent=community,
            latitude=Decimal("36.6") + Decimal(i) / 100,
            longitude=Decimal("117.0") + Decimal(i) / 100,
        )
        for i in range(n)
    ]
    for grid in grids:
        grid.refresh_from_db()
        _tickets(grid, category, count=2)
    district.refresh_from_db()
    return district


@pytest.mark.parametrize("grids", [5, 50])
def test_the_query_count_is_the_same_at_5_and_50_grids(
    db, client, grids, django_assert_max_num_queries
):
    with time_machine.travel(NOW, tick=False):
        district = _street_with_grids(grids)
        rate_grids(month=OCT)
        rate_grids(month=NOV)
        for month in range(12):
            indicator_months_refresh(
                month=dt.date(2025, 12, 1) + dt.timedelta(days=31 * month)
            )
        user = UserFactory(role=UserRole.SUPERVISOR, region=district)
        client.force_login(user)
        url = _url(district, month="2026-11")
        client.get(url)  # warm the per-process caches
        with django_assert_max_num_queries(QUERY_BOUND):
            response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["map"]) == grids


# Session and user (2), the node, its children and its path (3), the summaries
# of the node and of its children (1), category names, the ratings (both
# months' distribution 1, movers up and down 2, best and worst 2), the map's
# grids, the overdue and the escalated lists (each stage's ids up to the
# count's cap: 1 each, then both lists' first tickets: 1), the co-governance
# section (the month's published deliberation records, the micro-project
# totals: 2): 17 at 5 grids and at 50.
QUERY_BOUND = 17


def test_the_command_fills_the_history_and_refuses_nonsense(tree):
    from django.core.management import CommandError, call_command

    nodes = Region.objects.filter(level__in=SUMMARY_LEVELS).count()
    with time_machine.travel(NOW, tick=False):
        call_command("dashboard_refresh", "--months", "3", stdout=io.StringIO())
    assert set(IndicatorMonth.objects.values_list("month", flat=True)) == {
        dt.date(2026, 9, 1),
        OCT,
        NOV,
    }
    assert IndicatorMonth.objects.count() == 3 * nodes
    call_command("dashboard_refresh", "--month", "2025-01", stdout=io.StringIO())
    assert IndicatorMonth.objects.filter(month=dt.date(2025, 1, 1)).count() == nodes
    for bad in (["--month", "2025-13"], ["--months", "0"], ["--month", "x"]):
        with pytest.raises(CommandError):
            call_command("dashboard_refresh", *bad, stdout=io.StringIO())


def test_the_map_data_holds_shapes_and_centre_points():
    from governance.views_dashboard import _map_json

    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    data = _map_json(
        [
            {
                "pk": 1,
                "name": "甲",
                "latitude": None,
                "longitude": None,
                "boundary": {"type": "Feature", "geometry": square},
                "rating_class": "A",
            },
            {
                "pk": 2,
                "name": "乙",
                "latitude": Decimal("36.1"),
                "longitude": Decimal("117.2"),
                "boundary": None,
                "rating_class": None,
            },
        ]
    )
    assert data["geojson"]["features"] == [
        {"type": "Feature", "properties": {"name": "1"}, "geometry": square}
    ]
    assert data["grids"] == [
        {"id": 1, "name": "甲", "cls": "A", "shape": True},
        {"id": 2, "name": "乙", "cls": "", "lon": 117.2, "lat": 36.1},
    ]


@time_machine.travel(NOW, tick=False)
def test_the_page_speaks_english_when_asked(client, tree, supervisor, data):
    client.force_login(supervisor)
    client.cookies["django_language"] = "en"
    response = client.get(_url(tree["street"], month="2026-11"))
    body = response.content.decode()
    assert "Satisfaction rate" in body and "Ten best" in body


@time_machine.travel(NOW, tick=False)
def test_the_overdue_list_is_capped_oldest_first_and_counted(tree, supervisor):
    from governance import dashboard as module

    grid = tree["grids"][0]
    for hours in range(25):
        TicketFactory(
            region=grid,
            stage=(Stage.DISPATCHED, Stage.ACCEPTED)[hours % 2],
            stage_deadline=aware(2026, 11, 19, 0, 0) - dt.timedelta(hours=hours),
            escalation_level=hours % 3 == 0,
        )
    # Not overdue: due later, or in a stage that does not escalate.
    TicketFactory(
        region=grid, stage=Stage.ACCEPTED, stage_deadline=aware(2026, 12, 1, 0, 0)
    )
    TicketFactory(
        region=grid, stage=Stage.HANDLED, stage_deadline=aware(2026, 11, 1, 0, 0)
    )
    page = dashboard(actor=supervisor, region=tree["communities"][0], month=NOV)
    assert page["overdue_count"].value == 25 and not page["overdue_count"].capped
    deadlines = [t.stage_deadline for t in page["overdue"]]
    assert len(deadlines) == module.LIST_CAP and deadlines == sorted(deadlines)
    assert deadlines[0] == aware(2026, 11, 19, 0, 0) - dt.timedelta(hours=24)
    assert page["escalated_count"].value == 9
    assert all(t.escalation_level for t in page["escalated"])


def test_past_the_cap_the_count_says_so(tree, supervisor, monkeypatch):
    from governance import dashboard as module

    monkeypatch.setattr(module, "LIST_COUNT_CAP", 3)
    with time_machine.travel(NOW, tick=False):
        for _ in range(5):
            TicketFactory(
                region=tree["grids"][1],
                stage=Stage.DISPATCHED,
                stage_deadline=aware(2026, 11, 10, 0, 0),
            )
        page = dashboard(actor=supervisor, region=tree["street"], month=NOV)
    assert (page["overdue_count"].value, page["overdue_count"].capped) == (3, True)
    assert str(page["overdue_count"]) == "3+"


@time_machine.travel(NOW, tick=False)
def test_movers_up_and_down_are_listed_apart(tree, supervisor, data):
    up, down = tree["grids"][0], tree["grids"][1]
    # Classes set by hand for the test (the job's quotas put 4 grids in B).
    GridRating.objects.filter(grid=up, month=OCT).update(rating_class="C")
    GridRating.objects.filter(grid=up, month=NOV).update(rating_class="A")
    GridRating.objects.filter(grid=down, month=OCT).update(rating_class="A")
    GridRating.objects.filter(grid=down, month=NOV).update(rating_class="B")
    page = dashboard(actor=supervisor, region=tree["street"], month=NOV)
    assert [r.grid_id for r in page["movers_up"]] == [up.pk]
    assert [r.grid_id for r in page["movers_down"]] == [down.pk]
    classes = next(t for t in page["tables"] if t.key == "classes")
    assert classes.rows[0][1:] == [1, 1]  # A: this month 1, last month 1


def test_a_districts_lists_read_one_ordered_range_alike(tree, supervisor, monkeypatch):
    """A district's lists come from one ordered range over the stages
    (``ticket_overdue_district``), not from the UNION of the other nodes: the
    same oldest-first rows across stages and the same capped counts."""
    from governance import dashboard as module

    monkeypatch.setattr(module, "LIST_CAP", 2)
    monkeypatch.setattr(module, "LIST_COUNT_CAP", 3)
    stages = (Stage.RECEIVED, Stage.TRIAGED, Stage.DISPATCHED, Stage.ACCEPTED)
    with time_machine.travel(NOW, tick=False):
        made = [
            TicketFactory(
                region=tree["grids"][n % 4],
                stage=stages[n % 4],
                stage_deadline=aware(2026, 11, 10, 0, 0) + dt.timedelta(hours=n),
                escalation_level=n % 2,
            )
            for n in range(6)
        ]
        page = dashboard(actor=supervisor, region=tree["district"], month=NOV)
        street = dashboard(actor=supervisor, region=tree["street"], month=NOV)
    assert [t.pk for t in page["overdue"]] == [t.pk for t in made[:2]]
    assert [t.pk for t in page["escalated"]] == [made[1].pk, made[3].pk]
    assert str(page["overdue_count"]) == "3+" and str(page["escalated_count"]) == "3"
    for key in ("overdue", "escalated"):
        assert page[key] == street[key]
        assert str(page[f"{key}_count"]) == str(street[f"{key}_count"])


@time_machine.travel(NOW, tick=False)
def test_the_tables_rows_joined_in_python_are_escaped(client, tree, supervisor, data):
    Region.objects.filter(pk=tree["street"].pk).update(name="<b>街道</b>")
    client.force_login(supervisor)
    body = client.get(_url(tree["district"], month="2026-11")).content.decode()
    assert "&lt;b&gt;街道&lt;/b&gt;" in body and "<b>街道" not in body
    # The row still links to the street's own page.
    assert f'<a href="{_url(tree["street"], month="2026-11")}">' in body
