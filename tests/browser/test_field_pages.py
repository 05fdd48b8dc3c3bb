"""The field pages and the residents' pages in headless Chromium on a 360×640
phone, in Chinese, against a live server: patrol check-in and a household visit
that raises an event; a resident without an account opens a grid's report form
(the QR code's URL), reports with a photo and follows the tracking link to the
evaluation; the building view, tapped, opens the household file. Every page is
screenshotted into ``test-artifacts/`` and checked with axe-core (no serious or
critical violation) and for sideways scrolling."""

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from PIL import Image
from playwright.sync_api import expect

from grids.choices import PatrolKind, RegionLevel, UserRole
from grids.models import Patrol
from tests.conftest import CHROMIUM_ARGS
from tests.grids.factories import (
    GridAssignmentFactory,
    GridWorkerFactory,
    HouseholdFactory,
    RegionFactory,
    ResidentFactory,
    ResidentTagFactory,
    UserFactory,
)
from tests.tickets.factories import CategoryFactory, DepartmentFactory
from tickets import services as ticket_services
from tickets.choices import Source, Stage
from tickets.models import Ticket
from tickets.phone_field import report_url_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "field"
FITS_PHONE = "document.documentElement.scrollWidth <= window.innerWidth + 1"
PHONE_VIEWPORT = {"width": 360, "height": 640}
assert "--headless" in CHROMIUM_ARGS


def _jpeg(size=(2400, 1800)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 140, 90)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def phone(browser):
    """A 360×640 phone, Chinese, with a location the browser may give."""
    context = browser.new_context(
        locale="zh-CN",
        viewport=PHONE_VIEWPORT,
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": 36.6683, "longitude": 117.0204},
        permissions=["geolocation"],
    )
    page = context.new_page()
    yield page
    context.close()


def _check(page, name):
    """Screenshot, no sideways scroll, no serious or critical axe violation."""
    from axe_playwright_python.sync_playwright import Axe

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert page.evaluate(FITS_PHONE), f"{name}: the page is wider than the phone"
    violations = Axe().run(page).response["violations"]
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: {bad}"


def _login(page, live_server, client, user):
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


@pytest.fixture
def field(tree):
    """My grid with a building of two units, households and a tag."""
    grid = tree["grids"][0]
    building = RegionFactory(
        name="幸福里3号楼", level=RegionLevel.BUILDING, parent=grid
    )
    # The new building moved the MPTT bounds of every node above it.
    for node in [
        tree["district"],
        tree["street"],
        *tree["communities"],
        *tree["grids"],
    ]:
        node.refresh_from_db()
    tag = ResidentTagFactory(code="alone", name="独居老人")
    households = {}
    for unit in (1, 2, 3):
        for floor in (1, 5):
            address = f"幸福里3号楼{unit}单元{floor}02室"
            household = HouseholdFactory(region=building, address=address)
            resident = ResidentFactory(household=household, name=f"住户{unit}{floor}")
            if (unit, floor) == (3, 5):
                resident.tags.add(tag)
            households[(unit, floor)] = household
    worker = UserFactory(
        role=UserRole.GRID_WORKER, region=grid, is_staff=False, username="wgy"
    )
    GridAssignmentFactory(grid=grid, worker=GridWorkerFactory(name="王网格"))
    return {
        "grid": grid,
        "building": building,
        "households": households,
        "worker": worker,
    }


def test_patrol_check_in_and_a_household_visit_with_an_event(
    phone, live_server, client, field
):
    _login(phone, live_server, client, field["worker"])
    phone.goto(live_server.url + "/m/tickets/visit/")
    expect(phone.locator("h1")).to_contain_text("巡查走访")
    _check(phone, "visit_form")

    # 日巡查: the grid, notes, send.
    phone.get_by_label("日巡查").check()
    phone.select_option("#id_region", str(field["grid"].pk))
    phone.fill("#id_notes", "日巡查：小区东门无异常")
    phone.locator("form[data-m-form] button[type=submit]").click()
    phone.wait_for_url(live_server.url + "/m/")
    assert Patrol.objects.filter(kind=PatrolKind.PATROL).count() == 1

    # 入户走访: find 3单元502 by building and room, pick it, raise an event.
    phone.goto(live_server.url + "/m/tickets/visit/")
    phone.locator("details summary").click()
    phone.fill("#id_room", "3单元502")
    phone.get_by_role("button", name="查找住户").click()
    target = field["households"][(3, 5)]
    phone.locator(f"a[href$='household={target.pk}']").click()
    expect(phone.locator("#picked")).to_contain_text("3单元502")
    _check(phone, "visit_picked")
    phone.get_by_label("入户走访").check()
    phone.fill("#id_notes", "入户走访：独居老人反映楼道灯坏")
    phone.set_input_files(
        "#id_photo",
        files=[{"name": "v.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}],
    )
    phone.check("#id_raise_event")
    phone.fill("#id_event_description", "3单元5楼楼道灯不亮")
    phone.locator("form[data-m-form] button[type=submit]").click()
    phone.wait_for_url(live_server.url + "/m/")
    visit = Patrol.objects.get(kind=PatrolKind.VISIT)
    assert visit.household == target and visit.photo
    ticket = Ticket.objects.get()
    assert ticket.source == Source.PATROL and ticket.region == target.region
    assert ticket.photos.count() == 1


def test_resident_reports_from_the_poster_and_follows_the_link(
    phone, browser, live_server, client, field, street_staff, community_staff, settings
):
    settings.TICKETS_SELF_REPORT_MIN_FILL_SECONDS = 0
    # The grid worker's poster: the grid, its workers, the QR code.
    worker_page = browser.new_context(
        locale="zh-CN", viewport=PHONE_VIEWPORT
    ).new_page()
    _login(worker_page, live_server, client, field["worker"])
    worker_page.goto(live_server.url + f"/m/tickets/poster/{field['grid'].pk}/")
    expect(worker_page.locator("body")).to_contain_text("王网格")
    assert worker_page.locator("svg.qr-code").count() == 1
    _check(worker_page, "poster")
    report_url = worker_page.locator("figcaption").inner_text().strip()
    assert report_url == live_server.url + report_url_for(field["grid"])
    worker_page.context.close()

    # The resident, no account: scan-open, report with a photo, get the link.
    phone.goto(report_url)
    expect(phone.locator("h1")).to_contain_text("码上办")
    assert phone.locator(".m-tabs").count() == 0
    _check(phone, "report_form")
    phone.fill("#id_description", "小区东门路灯坏了三天，晚上很黑")
    phone.fill("#id_address", "东门岗亭旁")
    phone.fill("#id_phone", "13912345678")
    phone.set_input_files(
        "#id_photos",
        files=[{"name": "r.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}],
    )
    expect(phone.locator("[data-geo-status]")).to_contain_text("36.668")
    phone.locator("form[data-m-form] button[type=submit]").click()
    phone.wait_for_url("**/m/tickets/track/**")
    ticket = Ticket.objects.get()
    assert ticket.source == Source.SELF_REPORT and ticket.stage == Stage.RECEIVED
    assert ticket.latitude is not None and ticket.photos.count() == 1
    with Image.open(ticket.photos.get().image.path) as stored:
        assert max(stored.size) <= 1600  # resized on the phone
    body = phone.inner_text("body")
    assert ticket.display_number in body and "13912345678" not in body
    _check(phone, "track_received")
    tracking = phone.url

    # The centre handles it; the link then offers the evaluation.
    department = DepartmentFactory(name="市政")
    category = CategoryFactory(
        name="路灯",
        parent=CategoryFactory(name="市政设施"),
        default_department=department,
    )
    ticket_services.ticket_triage(
        actor=street_staff,
        ticket_id=ticket.pk,
        category=category,
        region=field["grid"],
        responsible_leader=street_staff,
    )
    ticket_services.ticket_dispatch(
        actor=street_staff,
        ticket_id=ticket.pk,
        handling_region=field["grid"].parent,
        instructions="请尽快修复",
    )
    ticket_services.ticket_accept(
        actor=community_staff, ticket_id=ticket.pk, handler=field["worker"]
    )
    ticket_services.ticket_handle(
        actor=field["worker"],
        ticket_id=ticket.pk,
        result="路灯已更换",
        cause="灯泡老化",
        measures="更换灯泡",
    )
    phone.goto(tracking)
    expect(phone.locator("body")).to_contain_text("路灯已更换")
    assert field["worker"].first_name not in phone.inner_text("body")
    _check(phone, "track_handled")
    phone.locator("a[href*='/tickets/evaluate/']").click()
    expect(phone.locator("input[name=verdict]").first).to_be_visible()


def test_building_view_tap_opens_the_household_file(phone, live_server, client, field):
    _login(phone, live_server, client, field["worker"])
    phone.goto(live_server.url + "/m/grid/buildings/")
    phone.get_by_role("link", name="幸福里3号楼").click()
    expect(phone.locator("table.m-plan")).to_be_visible()
    expect(phone.locator(".m-legend")).to_contain_text("独居老人")
    _check(phone, "building_plan")
    target = field["households"][(3, 5)]
    phone.locator(f"a.m-flat[href$='/households/{target.pk}/']").tap()
    expect(phone.locator("h2").first).to_contain_text("3单元502")
    resident = target.residents.get()
    body = phone.inner_text("body")
    assert resident.id_number not in body and resident.phone not in body
    assert "独居老人" in body
    _check(phone, "household_card")
    phone.goto(live_server.url + "/m/grid/households/?room=502")
    _check(phone, "household_find")
