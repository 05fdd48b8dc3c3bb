"""The grid workers' phone app (/m/) in headless Chromium on a 360×640 phone, in
Chinese, against a live server: the phone login; reporting an event with a
photo and the phone's location (it lands in the street's triage queue); 接单,
做单 with a photo, 上报, 评单 满意; a form sent offline keeps its draft and its
resend makes one record; a double tap makes one record; a session that ended
while typing sends to the login and the draft comes back; another grid's ticket
is a 404. Every page: axe-core finds no serious or critical violation, touch
targets are at least 44 px, and nothing scrolls sideways.

Screenshots go to ``test-artifacts/phone/`` (not committed).
"""

import io
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from grids.choices import UserRole
from tests.conftest import CHROMIUM_ARGS  # noqa: F401 (the shared launch flags)
from tests.grids.factories import UserFactory
from tests.tickets.factories import (
    CategoryFactory,
    DepartmentFactory,
    handler_for,
    walk_to,
)
from tickets.choices import Source, Stage, Verdict
from tickets.models import Ticket, TicketEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "phone"
FITS_PHONE = "document.documentElement.scrollWidth <= window.innerWidth + 1"
# Visible controls smaller than 44 px in either direction (radios and
# checkboxes are measured by their label, which is the target).
SMALL_TARGETS = """() => Array.from(document.querySelectorAll(
    'main a, main button, main select, main textarea, nav a, header a, header button,'
    + ' main input:not([type=hidden]):not([type=radio]):not([type=checkbox])'))
  .filter(el => el.offsetParent !== null)
  .filter(el => { const r = el.getBoundingClientRect();
                  return r.height < 44 || r.width < 44; })
  .map(el => el.outerHTML.slice(0, 80))"""
SHANGHAI = {"latitude": 31.2304, "longitude": 121.4737}


@pytest.fixture
def phone(browser):
    """A 360×640 phone in Chinese that allows its location (Shanghai)."""
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 360, "height": 640},
        is_mobile=True,
        has_touch=True,
        geolocation=SHANGHAI,
        permissions=["geolocation"],
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def people(tree, street_staff, community_staff):
    department = DepartmentFactory(name="城管")
    category = CategoryFactory(
        name="占道经营",
        parent=CategoryFactory(name="城市管理"),
        default_department=department,
    )
    handler = handler_for(tree, 0)
    for user in (handler, community_staff, street_staff):
        user.set_password("pass-for-tests")
        user.save()
    return {
        "tree": tree,
        "street_staff": street_staff,
        "community_staff": community_staff,
        "handler": handler,
        "category": category,
    }


def _check_page(page, name):
    """Screenshot, then: fits the phone, touch targets, axe serious/critical."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert page.evaluate(FITS_PHONE), f"{name}: wider than the phone"
    small = page.evaluate(SMALL_TARGETS)
    assert small == [], f"{name}: touch targets under 44 px: {small}"
    results = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["html"][:80] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{name}: axe violations {bad}"


def _login(page, live_server, user, next_path="/m/"):
    page.goto(f"{live_server.url}{next_path}")
    expect(page).to_have_url(re.compile(r"/m/login/"))
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pass-for-tests")
    page.click("main [type=submit]")
    expect(page.locator(".m-tabs")).to_be_visible()


def _jpeg_file(name="scene.jpg", size=(2400, 1800)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 140, 60)).save(buffer, "JPEG", quality=90)
    return {"name": name, "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def _fill_report(page, category, text):
    page.fill("#id_category_q", "占道")
    page.get_by_label(category.name, exact=False).check()
    page.fill("#id_description", text)
    page.set_input_files("#id_photos", _jpeg_file())
    # The location came from the phone (m.js fills the hidden fields).
    expect(page.locator("#id_latitude")).to_have_value("31.230400")


def test_sign_in_and_home(phone, live_server, people):
    _login(phone, live_server, people["handler"])
    expect(phone.locator("h1")).to_have_text("我的工作")
    expect(phone.locator(".m-tabs")).to_contain_text("我的工单")
    _check_page(phone, "home")
    phone.goto(f"{live_server.url}/m/grid/inbox/")
    _check_page(phone, "inbox")
    phone.goto(f"{live_server.url}/m/reports/")
    _check_page(phone, "reports")


def test_login_page_is_accessible(phone, live_server, db):
    phone.goto(f"{live_server.url}/m/login/")
    _check_page(phone, "login")


def test_report_an_event_with_photo_and_location_lands_in_triage(
    phone, live_server, people, client
):
    worker = people["handler"]
    _login(phone, live_server, worker, "/m/tickets/report/")
    expect(phone.locator("h1")).to_have_text("上报事件")
    _check_page(phone, "report_form")
    _fill_report(phone, people["category"], "小区门口占道经营，影响通行")
    phone.get_by_role("button", name="提交上报").click()
    expect(phone.locator(".messages")).to_contain_text("已上报")
    ticket = Ticket.objects.get(created_by=worker)
    assert (ticket.source, ticket.stage) == (Source.PATROL, Stage.RECEIVED)
    assert float(ticket.latitude) == pytest.approx(31.2304, abs=1e-4)
    photo = ticket.photos.get()
    with Image.open(photo.image.path) as image:  # resized in the browser
        assert max(image.size) <= 1600
    _check_page(phone, "ticket_detail_new")
    # The street's triage queue shows it.
    street = people["street_staff"]
    street.is_staff = True
    street.save()
    client.force_login(street)
    queue = client.get(reverse("admin:tickets_triagequeueticket_changelist"))
    assert ticket.number in queue.content.decode()


def test_accept_handle_report_up_and_verdict(phone, live_server, people, browser):
    dispatched = walk_to(Stage.DISPATCHED, **people)
    staff = people["community_staff"]
    _login(phone, live_server, staff, f"/m/tickets/{dispatched.pk}/")
    _check_page(phone, "ticket_detail")
    phone.get_by_role("link", name="接单").click()
    phone.select_option("#id_handler", str(people["handler"].pk))
    _check_page(phone, "accept_form")
    phone.get_by_role("button", name="接单").click()
    expect(phone.locator(".messages")).to_contain_text("已接单")
    dispatched.refresh_from_db()
    assert (dispatched.stage, dispatched.handler) == (Stage.ACCEPTED, people["handler"])

    # The handler handles it with a photo, and reports another one up.
    other = walk_to(Stage.ACCEPTED, **people)
    worker_context = browser.new_context(
        locale="zh-CN", viewport={"width": 360, "height": 640}, is_mobile=True
    )
    worker = worker_context.new_page()
    _login(worker, live_server, people["handler"], f"/m/tickets/{dispatched.pk}/")
    worker.get_by_role("link", name="做单").click()
    worker.fill("#id_cause", "摊贩占道")
    worker.fill("#id_result", "已劝离并清理")
    worker.set_input_files("#id_photos", _jpeg_file("after.jpg"))
    _check_page(worker, "handle_form")
    worker.get_by_role("button", name="做单").click()
    expect(worker.locator(".messages")).to_contain_text("已记录办理情况")
    expect(worker.locator(".m-photos img")).to_have_count(1)
    dispatched.refresh_from_db()
    assert dispatched.stage == Stage.HANDLED

    worker.goto(f"{live_server.url}/m/tickets/{other.pk}/")
    worker.get_by_role("link", name="上报").click()
    worker.fill("#id_reason", "涉及多个部门，需要街道协调")
    worker.get_by_role("button", name="上报").click()
    expect(worker.locator(".messages")).to_contain_text("已上报")
    assert TicketEvent.objects.filter(ticket=other, action="report_up").count() == 1
    worker_context.close()

    # Community staff record the resident's 满意 from a phone call.
    phone.goto(f"{live_server.url}/m/tickets/{dispatched.pk}/")
    phone.get_by_role("link", name="群众评价").click()
    phone.get_by_label("满意", exact=True).check()
    phone.fill("#id_call_note", "电话回访本人")
    _check_page(phone, "verdict_form")
    phone.get_by_role("button", name="群众评价").click()
    expect(phone.locator(".messages")).to_contain_text("已记录评价")
    dispatched.refresh_from_db()
    assert (dispatched.stage, dispatched.verdict) == (
        Stage.EVALUATED,
        Verdict.SATISFIED,
    )


def test_offline_send_keeps_the_draft_and_the_resend_makes_one_record(
    phone, live_server, people
):
    worker = people["handler"]
    _login(phone, live_server, worker, "/m/tickets/report/")
    _fill_report(phone, people["category"], "楼道堆物，离线时填写")
    phone.context.set_offline(True)
    phone.get_by_role("button", name="提交上报").click()
    expect(phone.locator(".m-send-failed")).to_contain_text("未发送")
    assert not Ticket.objects.exists()
    draft = phone.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('gw-draft:'))"
        ".map(k => localStorage.getItem(k)).join('')"
    )
    assert "楼道堆物，离线时填写" in draft
    _check_page(phone, "offline_failed")
    phone.context.set_offline(False)
    phone.get_by_role("button", name="再次发送").click()
    expect(phone.locator(".messages")).to_contain_text("已上报")
    # The answer was lost once more: the same form sent again is the same record.
    assert Ticket.objects.filter(created_by=worker).count() == 1
    leftover = phone.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('gw-draft:'))"
        ".map(k => localStorage.getItem(k)).join('')"
    )
    assert "楼道堆物" not in leftover  # cleared after the server accepted it


def test_double_tap_makes_one_record(phone, live_server, people):
    ticket = walk_to(Stage.ACCEPTED, **people)
    _login(phone, live_server, people["handler"], f"/m/tickets/{ticket.pk}/")
    phone.goto(f"{live_server.url}/m/tickets/{ticket.pk}/report_up/")
    phone.fill("#id_reason", "需要上级协调")
    # Two sends of the same filled form at once, as a double tap on a slow
    # network: the same key, one record.
    statuses = phone.evaluate(
        """async () => {
            const form = document.querySelector("main form[method=post]");
            const send = () => fetch(form.action, {method: "POST",
                body: new FormData(form), credentials: "same-origin"});
            const replies = await Promise.all([send(), send()]);
            return replies.map(r => r.status);
        }"""
    )
    assert statuses == [200, 200]  # both followed to the ticket page
    phone.get_by_role("button", name="上报").dblclick()
    expect(phone.locator("h1")).to_have_text(ticket.number)
    assert TicketEvent.objects.filter(ticket=ticket, action="report_up").count() == 1


def test_session_ended_while_typing_then_the_draft_comes_back(
    phone, live_server, people
):
    worker = people["handler"]
    _login(phone, live_server, worker, "/m/tickets/report/")
    _fill_report(phone, people["category"], "会话过期前写的内容")
    phone.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)  # session ended
    phone.get_by_role("button", name="提交上报").click()
    expect(phone).to_have_url(re.compile(r"/m/login/"))
    phone.fill("#id_username", worker.username)
    phone.fill("#id_password", "pass-for-tests")
    phone.click("main [type=submit]")
    expect(phone.locator("h1")).to_have_text("上报事件")
    expect(phone.locator("#id_description")).to_have_value("会话过期前写的内容")
    # The photo is not kept in a draft (a browser cannot): the form asks again.
    expect(phone.get_by_label("占道经营", exact=False)).to_be_checked()
    assert not Ticket.objects.exists()


def test_another_grids_ticket_is_404(phone, live_server, people, other_tree):
    ticket = walk_to(Stage.ACCEPTED, **people)
    outsider = UserFactory(role=UserRole.GRID_WORKER, region=other_tree["grids"][0])
    outsider.set_password("pass-for-tests")
    outsider.save()
    _login(phone, live_server, outsider)
    response = phone.goto(f"{live_server.url}/m/tickets/{ticket.pk}/")
    assert response.status == 404
    assert ticket.description not in phone.inner_text("body")


def test_lists_and_moved_pages_are_accessible(phone, live_server, people):
    walk_to(Stage.ACCEPTED, **people)
    _login(phone, live_server, people["community_staff"], "/m/tickets/")
    _check_page(phone, "my_tickets")
    for path, name in [
        ("/m/tickets/?overdue=yes", "my_tickets_overdue"),
        ("/m/party/wishes/", "wishes"),
        ("/m/party/wishes/new/", "wish_new"),
        ("/m/points/propose/", "propose"),
    ]:
        phone.goto(f"{live_server.url}{path}")
        _check_page(phone, name)
