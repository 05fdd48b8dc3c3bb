"""The periodic reports (周通报, 月评比, 年奖惩) and the grid page
(governance.bulletins, governance.views_bulletins): known answers on hand-built
data, scope (another community's data is a 404), empty weeks and months, the
Excel files, and a query count that does not grow with the number of grids."""

import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse

from governance import bulletins
from governance.models import RatingRuleSet
from governance.services import (
    rate_grids,
    rating_appeal_decide,
    rating_appeal_file,
    ratings_publish,
)
from grids.choices import PatrolKind, RegionLevel, UserRole, WorkerRole
from grids.models import Patrol
from tests.grids.factories import (
    GridAssignmentFactory,
    GridWorkerFactory,
    UserFactory,
    make_tree,
)
from tests.tickets.factories import TicketFactory, aware
from tickets.choices import Action, Stage, Verdict
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 16)  # ISO 2026-W47
OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
NOW = aware(2026, 12, 2, 12, 0)


def _login(client, user):
    client.force_login(user)
    return client


def _patrol(worker, region, when):
    return Patrol.objects.create(
        worker=worker, region=region, kind=PatrolKind.PATROL, occurred_at=when
    )


# --- the weekly bulletin -------------------------------------------------------------


@pytest.fixture
def week_data(tree):
    g = tree["grids"]
    worker = UserFactory(role=UserRole.GRID_WORKER, region=g[0], is_staff=False)
    # grid 0: two received this week, one the week before.
    TicketFactory(region=g[0], received_at=aware(2026, 11, 16, 9, 0))
    TicketFactory(region=g[0], received_at=aware(2026, 11, 22, 23, 0))
    TicketFactory(region=g[0], received_at=aware(2026, 11, 10, 9, 0))
    # a merged duplicate is never "received".
    TicketFactory(
        region=g[0], received_at=aware(2026, 11, 17, 9, 0), stage=Stage.MERGED
    )
    # grid 1: one closed this week; its 做单 deadline met.
    TicketFactory(
        region=g[1],
        received_at=aware(2026, 11, 1, 9, 0),
        stage=Stage.CLOSED,
        closed_at=aware(2026, 11, 18, 9, 0),
        handling_due_at=aware(2026, 11, 12, 17, 30),
        handled_at=aware(2026, 11, 12, 10, 0),
    )
    # grid 2 (second community): one missed its deadline this week, escalated.
    late = TicketFactory(
        region=g[2],
        received_at=aware(2026, 11, 2, 9, 0),
        stage=Stage.ACCEPTED,
        handling_due_at=aware(2026, 11, 19, 17, 30),
    )
    TicketEvent.objects.create(
        ticket=late,
        action=Action.ESCALATE,
        at=aware(2026, 11, 19, 18, 0),
        from_stage=Stage.ACCEPTED,
        to_stage=Stage.ACCEPTED,
    )
    # patrols: grid 0 on two days this week (three entries), grid 3 last week.
    _patrol(worker, g[0], aware(2026, 11, 16, 10, 0))
    _patrol(worker, g[0], aware(2026, 11, 16, 15, 0))
    _patrol(worker, g[0], aware(2026, 11, 20, 10, 0))
    _patrol(worker, g[3], aware(2026, 11, 11, 10, 0))
    return {"late": late}


def test_weekly_bulletin_counts_known_answers(tree, street_staff, week_data):
    bulletin = bulletins.weekly_bulletin(
        actor=street_staff, region=tree["street"], monday=MONDAY, now=NOW
    )
    area = bulletin["area"]
    assert area.current == {
        "received": 2,
        "closed": 1,
        "overdue": 1,
        "escalated": 1,
        "patrols": 3,
        "patrol_days": 2,
    }
    assert area.previous == {
        "received": 1,
        "closed": 0,
        "overdue": 0,
        "escalated": 0,
        "patrols": 1,
        "patrol_days": 1,
    }
    assert area.changes["received"] == 1
    first, second = bulletin["communities"]
    assert (first.current["received"], first.current["closed"]) == (2, 1)
    assert (second.current["overdue"], second.current["escalated"]) == (1, 1)
    assert second.previous["patrols"] == 1
    grids = {node.pk: node for node in bulletin["grids"]}
    assert grids[tree["grids"][0].pk].current["patrol_days"] == 2
    assert grids[tree["grids"][3].pk].current["patrol_days"] == 0
    assert [t.pk for t in bulletin["worst"]] == [week_data["late"].pk]
    assert bulletin["worst"][0].days_overdue == 3


def test_weekly_bulletin_of_a_community_and_empty_week(tree, community_staff):
    bulletin = bulletins.weekly_bulletin(
        actor=community_staff,
        region=tree["communities"][0],
        monday=MONDAY,
        now=NOW,
    )
    assert bulletin["communities"] == []
    assert len(bulletin["grids"]) == 2
    assert set(bulletin["area"].current.values()) == {0}
    assert bulletin["worst"] == []


def test_weekly_bulletin_page_and_excel(client, tree, street_staff, week_data):
    _login(client, street_staff)
    url = reverse("bulletins:weekly")
    response = client.get(url, {"week": "2026-W47"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "@page" not in body  # the print rules live in the stylesheet
    assert "governance/reports.css" in body
    assert tree["grids"][2].name in body
    assert week_data["late"].number in body
    response = client.get(reverse("bulletins:weekly_xlsx"), {"week": "2026-W47"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == 4
    summary = list(book.worksheets[0].iter_rows(values_only=True))
    assert summary[1][1:4] == (2, 1, 1)  # received: this week, last, change
    for bad in ("2026-W99", "x", "20260-W1", "2026-W"):
        assert client.get(url, {"week": bad}).status_code == 404
    assert client.get(url, {"region": "abc"}).status_code == 404


def test_weekly_bulletin_is_scoped(client, tree, other_tree, community_staff):
    _login(client, community_staff)
    url = reverse("bulletins:weekly")
    # Their own community opens by default; the street above and the sibling
    # community are out of reach, as is another district.
    assert client.get(url).context["region"] == tree["communities"][0]
    for region in (tree["street"], tree["communities"][1], other_tree["street"]):
        assert client.get(url, {"region": region.pk}).status_code == 404
    assert client.get(url, {"region": tree["grids"][0].pk}).status_code == 404


def test_print_stylesheet_is_a4():
    from pathlib import Path

    from django.contrib.staticfiles import finders

    css = Path(finders.find("governance/reports.css")).read_text(encoding="utf-8")
    assert "@page { size: A4" in css and "@media print" in css


# --- ratings for the monthly and yearly reports ----------------------------------


def _rules():
    return RatingRuleSet.objects.create(
        region=None,
        version=RatingRuleSet.objects.filter(region=None).count() + 1,
        weights={"satisfaction_rate": 100},
        a_share=25,
        c_share=25,
        min_tickets=0,
    )


def _closed(grid, verdict, month, n=2):
    for _ in range(n):
        TicketFactory(
            region=grid,
            stage=Stage.CLOSED,
            received_at=aware(month.year, month.month, 2, 9, 0),
            closed_at=aware(month.year, month.month, 20, 9, 0),
            verdict=verdict,
        )


@pytest.fixture
def rated(tree, street_staff):
    """October: grid 0 best, grid 3 worst; November the other way round."""
    _rules()
    g = tree["grids"]
    order = [Verdict.SATISFIED, Verdict.ORDINARY, Verdict.ORDINARY]
    for month, grids in ((OCT, g), (NOV, list(reversed(g)))):
        _closed(grids[0], Verdict.SATISFIED, month)
        _closed(grids[1], order[1], month)
        _closed(grids[2], order[2], month, n=1)
        _closed(grids[3], Verdict.DISSATISFIED, month)
        rate_grids(month=month)
    ratings_publish(actor=street_staff, street=tree["street"], month=OCT)
    return tree


def test_monthly_ranking_ranks_and_marks(tree, street_staff, rated):
    ranking = bulletins.monthly_ranking(
        actor=street_staff, region=tree["street"], month=NOV
    )
    grids = [r.grid_id for r in ranking["ratings"]]
    assert grids[0] == tree["grids"][3].pk and grids[-1] == tree["grids"][0].pk
    assert ranking["counts"] == {"A": 1, "B": 2, "C": 1}
    top = ranking["ratings"][0]
    assert (top.rating_class, top.previous_class) == ("A", "C")
    moved = {r.grid_id: r.moved for r in ranking["movers"]}
    assert moved == {tree["grids"][3].pk: 1, tree["grids"][0].pk: -1}
    # November is a draft; October published.
    assert ranking["streets"][0][1] is None and not ranking["all_published"]
    october = bulletins.monthly_ranking(
        actor=street_staff, region=tree["street"], month=OCT
    )
    assert october["all_published"]


def test_monthly_ranking_page_excel_and_scope(
    client, tree, other_tree, street_staff, community_staff, rated
):
    _login(client, street_staff)
    url = reverse("bulletins:monthly")
    response = client.get(url, {"month": "2026-11"})
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("bulletins:grid", args=[tree["grids"][3].pk]) in body
    response = client.get(reverse("bulletins:monthly_xlsx"), {"month": "2026-11"})
    rows = list(
        openpyxl.load_workbook(io.BytesIO(response.content))
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    assert rows[1][1] == tree["grids"][3].name and rows[1][4] == "A"
    # An empty month says so.
    response = client.get(url, {"month": "2026-05"})
    assert response.status_code == 200 and response.context["ratings"] == []
    for bad in ("2026-13", "2026", "abc-11", "1900-01"):
        assert client.get(url, {"month": bad}).status_code == 404
    assert client.get(url, {"region": other_tree["street"].pk}).status_code == 404
    # A community's staff see their own grids only, never the street's ranking.
    _login(client, community_staff)
    assert client.get(url, {"region": tree["street"].pk}).status_code == 404
    own = client.get(url, {"month": "2026-11"})
    assert {r.grid_id for r in own.context["ratings"]} == {
        tree["grids"][0].pk,
        tree["grids"][1].pk,
    }


def test_yearly_summary(client, tree, street_staff, rated):
    summary = bulletins.yearly_summary(
        actor=street_staff, region=tree["street"], year=2026
    )
    rows = {row["grid_id"]: row for row in summary["rows"]}
    first = rows[tree["grids"][0].pk]
    assert first["months"][9:11] == ["A", "C"]
    assert (first["class_A"], first["class_B"], first["class_C"]) == (1, 0, 1)
    assert summary["rated_months"] == [OCT, NOV]
    # Four grids: every grid is in the ten best each month, none counted worst.
    assert first["best"] == 2 and first["worst"] == 0
    _login(client, street_staff)
    response = client.get(reverse("bulletins:yearly"), {"year": "2026"})
    assert response.status_code == 200
    response = client.get(reverse("bulletins:yearly_xlsx"), {"year": "2026"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet.max_row == 5
    empty = client.get(reverse("bulletins:yearly"), {"year": "2025"})
    assert empty.status_code == 200 and empty.context["rows"] == []


# --- the grid page ---------------------------------------------------------------


def test_grid_page_history_appeal_roster_and_scope(
    client, tree, other_tree, street_staff, community_staff, rated
):
    grid = tree["grids"][0]
    october = grid.ratings.get(month=OCT)
    appeal = rating_appeal_file(
        actor=community_staff, rating_id=october.pk, reason="十月台账漏报"
    )
    rating_appeal_decide(
        actor=street_staff, appeal_id=appeal.pk, upheld=True, new_class="B", note="核实"
    )
    worker = GridWorkerFactory(name="王网格", phone="13812345678", is_party_member=True)
    GridAssignmentFactory(
        worker=worker, grid=grid, role=WorkerRole.FULL_TIME, started_on=OCT
    )
    _login(client, community_staff)
    url = reverse("bulletins:grid", args=[grid.pk])
    response = client.get(url, {"month": "2026-11"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "十月台账漏报" in body and "A → B" in body
    assert "王网格" in body and "13812345678" not in body
    assert [r.month for r in response.context["history"]] == [NOV, OCT]
    assert response.context["has_indicators"]
    # The sibling community's grid, another district's, a community, a missing id.
    for other in (tree["grids"][2], other_tree["grids"][0]):
        assert client.get(reverse("bulletins:grid", args=[other.pk])).status_code == 404
    community = tree["communities"][0]
    assert client.get(reverse("bulletins:grid", args=[community.pk])).status_code == 404
    assert client.get(reverse("bulletins:grid", args=[10**9])).status_code == 404


def test_supervisor_reads_and_cannot_post(client, tree, rated):
    supervisor = UserFactory(role=UserRole.SUPERVISOR, region=tree["district"])
    _login(client, supervisor)
    for name in ("weekly", "monthly", "yearly"):
        assert client.get(reverse(f"bulletins:{name}")).status_code == 200
        assert client.post(reverse(f"bulletins:{name}")).status_code == 405
    response = client.get(reverse("bulletins:monthly"), {"month": "2026-11"})
    assert response.context["region"] == tree["district"]
    assert len(response.context["ratings"]) == 4


def test_admin_index_links_the_reports(client, street_staff):
    _login(client, street_staff)
    body = client.get(reverse("admin:index")).content.decode()
    for name in ("weekly", "monthly", "yearly"):
        assert reverse(f"bulletins:{name}") in body


# --- query counts: the same bound at 5 and at 50 grids -------------------------------


@pytest.mark.parametrize("communities,per_community", [(1, 5), (5, 10)])
def test_query_count_does_not_grow_with_grids(
    client, django_assert_max_num_queries, communities, per_community
):
    tree = make_tree(communities=communities, grids_per_community=per_community)
    assert len(tree["grids"]) == communities * per_community
    staff = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    worker = UserFactory(role=UserRole.GRID_WORKER, region=tree["grids"][0])
    _rules()
    for grid in tree["grids"]:
        _closed(grid, Verdict.SATISFIED, NOV, n=1)
        TicketFactory(region=grid, received_at=aware(2026, 11, 17, 9, 0))
        _patrol(worker, grid, aware(2026, 11, 17, 10, 0))
    rate_grids(month=OCT)
    rate_grids(month=NOV)
    _login(client, staff)
    # Session, user and the page's own reads; the same bound whatever the size.
    pages = [
        (reverse("bulletins:weekly"), {"week": "2026-W47"}, 14),
        (reverse("bulletins:weekly_xlsx"), {"week": "2026-W47"}, 14),
        (reverse("bulletins:monthly"), {"month": "2026-11"}, 14),
        (reverse("bulletins:monthly_xlsx"), {"month": "2026-11"}, 14),
        (reverse("bulletins:yearly"), {"year": "2026"}, 18),
        (reverse("bulletins:grid", args=[tree["grids"][0].pk]), {}, 16),
    ]
    for url, params, bound in pages:
        with django_assert_max_num_queries(bound):
            assert client.get(url, params).status_code == 200


def test_parse_iso_week():
    assert bulletins.parse_iso_week("2026-W47") == MONDAY
    assert bulletins.parse_iso_week("2026-47") == MONDAY
    assert bulletins.parse_iso_week("2026-W53") == dt.date(2026, 12, 28)
    assert bulletins.parse_iso_week("2025-W53") is None
    assert bulletins.parse_iso_week("") is None
    assert bulletins.parse_iso_week("２０２６-W47") is None


def test_default_region_of_a_grid_worker_is_none(tree, grid_worker):
    assert bulletins.default_region(grid_worker, bulletins.BULLETIN_LEVELS) is None
    assert RegionLevel.GRID not in bulletins.RANKING_LEVELS


@pytest.mark.parametrize("name", ["weekly", "monthly", "yearly"])
def test_report_pages_lead_back_to_the_admin(client, street_staff, name):
    _login(client, street_staff)
    body = client.get(reverse(f"bulletins:{name}")).content.decode()
    crumbs = body.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert f'href="{reverse("admin:index")}"' in crumbs and "报表" in crumbs
