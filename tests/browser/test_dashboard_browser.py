"""A supervisor opens the dashboard in Chromium, sees every chart drawn (a
canvas in each) beside its table, drills down street → community → grid, and
the page is saved as a screenshot (into docs/img/dashboard.png too with
GRIDWORK_DOCS_SCREENSHOTS=1)."""

import datetime as dt
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from governance.dashboard import indicator_months_refresh
from governance.services import rate_grids
from grids.choices import UserRole
from grids.models import Region
from tests.grids.factories import UserFactory
from tests.tickets.factories import CategoryFactory, TicketFactory, aware
from tickets.choices import ClosingLevel, Stage, Verdict

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "dashboard.png"


def _square(lon, lat, size=0.004):
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [lon, lat],
                [lon + size, lat],
                [lon + size, lat + size],
                [lon, lat + size],
                [lon, lat],
            ]
        ],
    }


def _history(tree):
    """Tickets over the last months in every grid, boundaries on the grids, and
    the ratings of the last two months."""
    categories = [CategoryFactory(name=n) for n in ("物业纠纷", "占道经营", "噪音扰民")]
    today = dt.date.today().replace(day=1)
    months = [today]
    for _ in range(5):
        months.insert(0, (months[0] - dt.timedelta(days=1)).replace(day=1))
    verdicts = [Verdict.SATISFIED, Verdict.SATISFIED, Verdict.ORDINARY]
    for g, grid in enumerate(tree["grids"]):
        # A 2 × 2 block of square grids; the first has only its centre point.
        west, south = 117.0 + (g % 2) * 0.01, 36.65 + (g // 2) * 0.01
        Region.objects.filter(pk=grid.pk).update(
            latitude=Decimal(f"{south + 0.005:.6f}"),
            longitude=Decimal(f"{west + 0.005:.6f}"),
            boundary=_square(west, south, 0.0095) if g else None,
        )
        for m, month in enumerate(months):
            for i in range(2 + (g + m) % 4):
                received = aware(month.year, month.month, 2 + i, 9, 0)
                TicketFactory(
                    region=grid,
                    category=categories[(g + i) % 3],
                    received_at=received,
                    dispatched_at=received,
                    accepted_on_time=(g + i) % 3 != 0,
                    handling_due_at=received + dt.timedelta(days=7),
                    handled_at=received + dt.timedelta(days=2 + g),
                    closed_at=received + dt.timedelta(days=3),
                    stage=Stage.CLOSED,
                    verdict=verdicts[(i + g) % 3],
                    closing_level=ClosingLevel.GRID
                    if i % 2
                    else ClosingLevel.COMMUNITY,
                )
        TicketFactory(
            region=grid,
            category=categories[0],
            received_at=aware(today.year, today.month, 1, 9, 0),
            stage=Stage.DISPATCHED,
            stage_deadline=aware(today.year, today.month, 1, 10, 0),
            escalation_level=1,
        )
    for month in months[-2:]:
        rate_grids(month=month)
    for month in months:
        indicator_months_refresh(month=month)


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-for-tests")
    page.click("input[type=submit]")


def _charts_drawn(page):
    page.wait_for_selector("#dashboard[data-charts-ready]")
    cards = page.locator(".chart-card .chart")
    for i in range(cards.count()):
        assert cards.nth(i).locator("canvas").count() >= 1, cards.nth(i).get_attribute(
            "id"
        )
    return cards.count()


def test_supervisor_drills_down_to_a_grid_and_sees_the_charts(
    page, live_server, tree, tmp_path
):
    _history(tree)
    UserFactory(username="lingdao", role=UserRole.SUPERVISOR, region=tree["district"])
    from tests.security.test_csp_browser import COLLECT

    page.add_init_script(COLLECT)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    missing = []
    page.on(
        "response",
        lambda r: missing.append(r.url) if r.status == 404 else None,
    )
    _login(page, live_server, "lingdao")
    page.goto(f"{live_server.url}/admin/")
    with page.expect_navigation():
        page.click("#reports a[href='/dashboard/']")
    assert page.url.endswith(f"/dashboard/{tree['district'].pk}/")
    assert "看板" in page.inner_text("h1")  # Chinese by default
    # Every chart drawn, the map included; the tables hold the numbers.
    assert _charts_drawn(page) >= 10
    received = page.locator(".figure[data-key=received] .figure-value").inner_text()
    assert int(received) > 0
    trend_rows = page.locator("#table-trends tbody tr")
    assert trend_rows.count() == 12
    assert page.locator("#table-classes tbody tr").count() == 3
    page.screenshot(path=str(tmp_path / "district.png"), full_page=True)
    # Drill down by the children's table: street → community → grid.
    for node in (tree["street"], tree["communities"][1], tree["grids"][3]):
        with page.expect_navigation():
            page.click(f"#table-children a[href^='/dashboard/{node.pk}/']")
        assert page.locator("h1").inner_text().find(node.name) >= 0
        _charts_drawn(page)
    # The grid's page: no children, its own figures, its map.
    assert page.locator("#table-children").count() == 0
    assert page.locator("#chart-map canvas").count() >= 1
    page.screenshot(path=str(tmp_path / "grid.png"), full_page=True)
    # Back to the street's page for the documentation's picture.
    page.goto(f"{live_server.url}/dashboard/{tree['street'].pk}/")
    _charts_drawn(page)
    # ECharts and the page's script run under the CSP without a violation.
    assert page.evaluate("window.__violations") == []
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("GRIDWORK_DOCS_SCREENSHOTS") == "1":
        # Refresh the documentation's picture only when asked: a test run
        # never changes a tracked file.
        DOCS_SHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS_SHOT)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    # The browser's own favicon request is the only resource allowed to miss.
    assert [u for u in missing if not u.endswith("/favicon.ico")] == [], missing
