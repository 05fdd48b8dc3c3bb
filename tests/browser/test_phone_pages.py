"""The phone and public pages in headless Chromium on a 390x844 phone screen, in
Chinese: the resident's 评单 link, the points statement and ranking, the grid
worker's points proposal, the 微心愿 pages, and the language switch.

Every page is screenshotted into ``tmp_path`` and must not scroll sideways.

Grid workers have ``is_staff=False`` and log in on the phone app's own login
page (``/m/login/``, see ``test_grid_worker_logs_in_to_the_phone_pages``); most
tests that act as a grid worker log in by copying a session cookie made with
``client.force_login``. The points proposal and the wish pages live under /m/
(the old addresses redirect there).
"""

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from partyorg.choices import WishState
from partyorg.models import Wish
from points import services as points_services
from points.links import rankings_url, statement_url
from points.models import Award
from tests.grids.factories import HouseholdFactory, ResidentFactory
from tests.partyorg.factories import WishFactory
from tests.points.factories import PrizeFactory, RuleItemFactory
from tests.tickets.factories import (
    CategoryFactory,
    DepartmentFactory,
    handler_for,
    walk_to,
)
from tickets import services as ticket_services
from tickets.choices import Action, EvaluationChannel, Stage, Verdict
from tickets.models import TicketEvaluation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FITS_PHONE = "document.documentElement.scrollWidth <= window.innerWidth + 1"


# --- helpers ---------------------------------------------------------------------


def _shot(page, tmp_path, name):
    """Screenshot the whole page and check it does not scroll sideways."""
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    assert page.evaluate(FITS_PHONE), f"{name}: the page is wider than the phone"


def _login_by_cookie(page, live_server, client, user):
    """Log ``user`` in without a login form (workaround for non-staff users)."""
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def _fill_login(page, username):
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-for-tests")
    page.click("main [type=submit]")


def _ticket_waiting_for_verdict(tree, street_staff, community_staff):
    """A ticket walked through the real services to 待评单 (handled)."""
    department = DepartmentFactory(name="城管")
    category = CategoryFactory(
        name="占道经营",
        parent=CategoryFactory(name="城市管理"),
        default_department=department,
    )
    return walk_to(
        Stage.HANDLED,
        tree=tree,
        street_staff=street_staff,
        community_staff=community_staff,
        handler=handler_for(tree, 0),
        category=category,
        reporter_phone="13800001111",
        reporter_name="李四",
    )


def _resident(grid, **kwargs):
    return ResidentFactory(household=HouseholdFactory(region=grid), **kwargs)


def _credit(actor, resident, points, item_name):
    """Points booked through the real propose → approve path."""
    item = RuleItemFactory(name=item_name, points=points)
    award, _ = points_services.award_propose(
        actor=actor,
        resident_id=resident.pk,
        rule_item_id=item.pk,
        awarded_on=timezone.localdate(),
        idempotency_key=f"credit-{resident.pk}-{item.pk}",
    )
    points_services.award_approve(actor=actor, award_id=award.pk)


# --- 评单: the resident's signed evaluation link -----------------------------------


def test_resident_gives_a_satisfied_verdict_once(
    phone_page, live_server, tree, street_staff, community_staff, tmp_path
):
    ticket = _ticket_waiting_for_verdict(tree, street_staff, community_staff)
    url = live_server.url + ticket_services.evaluation_url(ticket=ticket)

    response = phone_page.goto(url)
    assert response.status == 200
    body = phone_page.inner_text("body")
    assert "评价您反映问题的办理情况" in body
    assert "小区门口占道经营" in body and "已清理" in body
    assert "待评单" in body
    assert "13800001111" not in body and "李四" not in body
    for label in ("满意", "一般", "不满意"):
        expect(phone_page.get_by_label(label, exact=True)).to_be_visible()
    _shot(phone_page, tmp_path, "evaluate_form")

    phone_page.get_by_label("满意", exact=True).check()
    phone_page.fill("#comment", "处理很及时")
    phone_page.get_by_role("button", name="提交评价").click()

    expect(phone_page.locator(".messages")).to_contain_text("感谢您的评价。")
    expect(phone_page.locator("body")).to_contain_text("此链接现在不能评价")
    assert phone_page.locator("input[name=verdict]").count() == 0
    _shot(phone_page, tmp_path, "evaluate_done")
    ticket.refresh_from_db()
    assert (ticket.stage, ticket.verdict) == (Stage.EVALUATED, Verdict.SATISFIED)
    evaluation = TicketEvaluation.objects.get(ticket=ticket)
    assert (evaluation.channel, evaluation.comment) == (
        EvaluationChannel.LINK,
        "处理很及时",
    )

    # Opening the link again: it takes no second verdict.
    phone_page.goto(url)
    body = phone_page.inner_text("body")
    assert "此链接现在不能评价" in body and "待考单" in body
    assert phone_page.locator("input[name=verdict]").count() == 0


def test_dissatisfied_with_a_comment_sends_the_ticket_back_and_a_second_tab_is_refused(
    phone_page, live_server, tree, street_staff, community_staff, tmp_path
):
    ticket = _ticket_waiting_for_verdict(tree, street_staff, community_staff)
    url = live_server.url + ticket_services.evaluation_url(ticket=ticket)
    first = phone_page
    second = phone_page.context.new_page()  # the same link open in another tab
    first.goto(url)
    second.goto(url)

    first.get_by_label("不满意", exact=True).check()
    first.fill("#comment", "摊贩晚上又来了")
    first.get_by_role("button", name="提交评价").click()
    expect(first.locator(".messages")).to_contain_text("感谢您的评价。")
    # 返工: back to the handler, stage shown in Chinese.
    expect(first.locator("body")).to_contain_text("办理中（做单）")
    ticket.refresh_from_db()
    assert (ticket.stage, ticket.evaluation_round) == (Stage.ACCEPTED, 2)
    rework = ticket.events.get(action=Action.REWORK)
    assert rework.note == "摊贩晚上又来了"

    second.get_by_label("满意", exact=True).check()
    second.get_by_role("button", name="提交评价").click()
    expect(second.locator(".messages")).to_contain_text("评价链接已使用过。")
    _shot(second, tmp_path, "evaluate_used")
    ticket.refresh_from_db()
    assert ticket.stage == Stage.ACCEPTED and ticket.verdict == ""
    assert TicketEvaluation.objects.filter(ticket=ticket).count() == 1


def test_tampered_foreign_and_expired_links_show_an_error_page(
    phone_page, live_server, tree, street_staff, community_staff, settings, tmp_path
):
    ticket = _ticket_waiting_for_verdict(tree, street_staff, community_staff)
    token = ticket_services.evaluation_token(ticket=ticket)
    tampered = token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    other = _ticket_waiting_for_verdict(tree, street_staff, community_staff)
    cases = [
        f"/tickets/evaluate/{ticket.pk}/{tampered}/",
        f"/tickets/evaluate/{other.pk}/{token}/",  # a real token, another ticket
        f"/tickets/evaluate/{ticket.pk}/not-a-token/",
    ]
    for path in cases:
        response = phone_page.goto(live_server.url + path)
        assert response.status == 400, path
        body = phone_page.inner_text("body")
        assert "评价链接无效。" in body, path
        assert phone_page.locator("input[name=verdict]").count() == 0
    _shot(phone_page, tmp_path, "evaluate_invalid")

    settings.TICKETS_EVALUATION_LINK_MAX_AGE_DAYS = -1
    response = phone_page.goto(
        live_server.url + ticket_services.evaluation_url(ticket=ticket)
    )
    assert response.status == 410
    assert "评价链接已过期" in phone_page.inner_text("body")
    ticket.refresh_from_db()
    assert ticket.stage == Stage.HANDLED
    assert not TicketEvaluation.objects.exists()


# --- Points: statement, ranking, proposal --------------------------------------------


def test_statement_shows_balance_history_prizes_and_hides_personal_data(
    phone_page, live_server, tree, street_staff, tmp_path
):
    resident = _resident(tree["grids"][0], name="张三丰", phone="13912345678")
    neighbour = _resident(tree["grids"][1], name="李小龙", phone="13711112222")
    outsider = _resident(tree["grids"][2], name="赵六一")
    _credit(street_staff, resident, 60, "清理楼道")
    _credit(street_staff, neighbour, 30, "扶老助残")
    _credit(street_staff, outsider, 99, "见义勇为")
    PrizeFactory(region=tree["communities"][0], name="大米", price=50, stock=3)
    PrizeFactory(region=tree["street"], name="食用油", price=80, stock=3)
    PrizeFactory(region=tree["communities"][1], name="别处的奖品", price=10)

    response = phone_page.goto(live_server.url + statement_url(resident))
    assert response.status == 200
    body = phone_page.inner_text("body")
    assert "我的积分" in body and "60" in body
    affordable = phone_page.locator("section", has_text="可兑换的奖品")
    expect(affordable).to_contain_text("大米")
    expect(affordable.locator("h3 + ul")).to_contain_text("食用油")  # 更多奖品
    assert "别处的奖品" not in body
    # The heading reads 历史 (admin's catalogue wins over points' 积分明细).
    history = phone_page.locator("section", has=phone_page.locator("table"))
    expect(history).to_contain_text("清理楼道")
    expect(history).to_contain_text("+60")
    assert "扶老助残" not in body  # the neighbour's points are not shown
    assert "13912345678" not in body
    assert resident.id_number not in body
    assert resident.id_number not in phone_page.content()
    _shot(phone_page, tmp_path, "statement")

    # The ranking of the community, reached from the statement: names masked.
    phone_page.get_by_role("link", name="诚信文明积分排行").click()
    expect(phone_page.locator("h1")).to_have_text("诚信文明积分排行")
    rows = phone_page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("张*丰")
    expect(rows.nth(0)).to_contain_text("60")
    expect(rows.nth(1)).to_contain_text("李*龙")
    body = phone_page.inner_text("body")
    for secret in ("张三丰", "李小龙", "赵六一", "赵*一", "13912345678"):
        assert secret not in body
    _shot(phone_page, tmp_path, "rankings")


def test_rankings_name_column_reads_name_in_chinese(
    phone_page, live_server, tree, street_staff
):
    _credit(street_staff, _resident(tree["grids"][0], name="张三丰"), 10, "清理楼道")
    phone_page.goto(f"{live_server.url}{rankings_url(tree['communities'][0])}")
    expect(phone_page.locator("tbody")).to_contain_text("张*丰")
    headers = phone_page.locator("thead th").all_inner_texts()
    assert headers == ["名次", "姓名", "网格", "积分"]


def test_tampered_statement_link_is_not_found(phone_page, live_server, tree):
    resident = _resident(tree["grids"][0], name="张三丰")
    url = live_server.url + statement_url(resident)
    response = phone_page.goto(url[:-2] + "x/")
    assert response.status == 404
    assert "张三丰" not in phone_page.inner_text("body")


def test_grid_worker_proposes_points_and_a_repeated_submit_makes_one_proposal(
    phone_page, live_server, client, tree, grid_worker, tmp_path
):
    resident = _resident(tree["grids"][0], name="王大妈")
    _resident(tree["grids"][1], name="隔壁网格的人")
    item = RuleItemFactory(name="扶老助残", points=10)
    _login_by_cookie(phone_page, live_server, client, grid_worker)

    response = phone_page.goto(f"{live_server.url}/points/propose/")
    assert response.status == 200
    assert phone_page.url.endswith("/m/points/propose/")  # the old URL redirects
    expect(phone_page.locator("h1")).to_have_text("积分申报")
    # The resident is found by a search (htmx), not picked from everyone.
    phone_page.fill("#id_resident_q", "隔壁")
    expect(phone_page.locator("#residents")).to_contain_text("没有匹配")
    phone_page.fill("#id_resident_q", "王")
    phone_page.get_by_label("王大妈", exact=False).check()
    phone_page.select_option("#id_rule_item", value=str(item.pk))
    # The date field comes up empty (see test_propose_date_defaults_to_today)
    # and is required: the worker picks the date.
    phone_page.fill("#id_awarded_on", timezone.localdate().isoformat())
    phone_page.fill("#id_note", "陪老人看病")
    _shot(phone_page, tmp_path, "propose_form")

    # A double tap: the same filled form is sent once in the background, then
    # the button is pressed; both carry the same form key.
    reply = phone_page.evaluate(
        """async () => {
            const form = document.querySelector("main form[method=post]");
            const reply = await fetch(location.href, {
                method: "POST", body: new FormData(form), credentials: "same-origin",
            });
            return {status: reply.status, redirected: reply.redirected};
        }"""
    )
    assert reply == {"status": 200, "redirected": True}  # accepted, then redirected
    assert Award.objects.count() == 1
    phone_page.get_by_role("button", name="提交审核").click()

    expect(phone_page.locator(".messages")).to_contain_text("该申报已收到")
    award = Award.objects.get()
    assert (award.resident, award.proposed_by, award.note, award.points) == (
        resident,
        grid_worker,
        "陪老人看病",
        10,
    )
    recent = phone_page.locator("main ul.m-list li")
    expect(recent).to_have_count(1)
    expect(recent.first).to_contain_text("王大妈")
    expect(recent.first).to_contain_text("待审核")
    _shot(phone_page, tmp_path, "propose_done")


def test_propose_date_defaults_to_today(phone_page, live_server, client, grid_worker):
    _login_by_cookie(phone_page, live_server, client, grid_worker)
    phone_page.goto(f"{live_server.url}/points/propose/")
    expect(phone_page.locator("h1")).to_have_text("积分申报")
    today = timezone.localdate().isoformat()
    assert phone_page.input_value("#id_awarded_on") == today


def test_grid_worker_logs_in_to_the_phone_pages(phone_page, live_server, grid_worker):
    phone_page.goto(f"{live_server.url}/points/propose/")
    assert "/m/login/" in phone_page.url  # sent to the phone login page
    _fill_login(phone_page, grid_worker.username)
    expect(phone_page.locator("h1")).to_have_text("积分申报", timeout=5000)


# --- 微心愿 phone pages --------------------------------------------------------------


def test_community_staff_posts_a_wish_on_the_phone(
    phone_page, live_server, tree, community_staff, tmp_path
):
    grid = tree["grids"][1]  # a grid of the staff's community
    phone_page.goto(f"{live_server.url}/party/wishes/")
    assert "/m/login/" in phone_page.url
    _fill_login(phone_page, community_staff.username)
    expect(phone_page.locator("h1")).to_have_text("微心愿")
    _shot(phone_page, tmp_path, "wishes_empty")

    phone_page.get_by_role("link", name="发布心愿").click()
    expect(phone_page.locator("h1")).to_have_text("发布心愿")
    offered = phone_page.locator("#id_region option").all_inner_texts()
    assert any(grid.name in text for text in offered)
    assert not any(tree["grids"][2].name in text for text in offered)
    phone_page.select_option("#id_region", label=grid.name)
    phone_page.fill("#id_title", "一副老花镜")
    phone_page.fill("#id_beneficiary", "独居老人")
    phone_page.fill("#id_estimated_value", "35")
    _shot(phone_page, tmp_path, "wish_new")
    phone_page.get_by_role("button", name="发布", exact=True).click()

    expect(phone_page.locator(".messages")).to_contain_text("心愿已发布。")
    expect(phone_page.locator("h1")).to_have_text("一副老花镜")
    expect(phone_page.locator(".wish-state")).to_have_text("已发布")
    _shot(phone_page, tmp_path, "wish_detail")
    wish = Wish.objects.get(title="一副老花镜")
    assert (wish.region, wish.community, wish.state) == (
        grid,
        tree["communities"][0],
        WishState.POSTED,
    )
    assert wish.posted_by == community_staff

    phone_page.goto(f"{live_server.url}/party/wishes/")
    card = phone_page.locator(".wish", has_text="一副老花镜")
    expect(card).to_contain_text("独居老人")
    expect(card).to_contain_text(grid.name)
    _shot(phone_page, tmp_path, "wishes")


def test_grid_worker_cannot_reach_or_post_a_wish_outside_the_grid(
    phone_page, live_server, client, tree, grid_worker, tmp_path
):
    mine = WishFactory(title="本网格的心愿", region=tree["grids"][0])
    elsewhere = WishFactory(title="别的社区的心愿", region=tree["grids"][2])
    _login_by_cookie(phone_page, live_server, client, grid_worker)

    phone_page.goto(f"{live_server.url}/party/wishes/")
    body = phone_page.inner_text("body")
    assert "本网格的心愿" in body and "别的社区的心愿" not in body
    _shot(phone_page, tmp_path, "wishes_grid_worker")

    response = phone_page.goto(f"{live_server.url}/party/wishes/{elsewhere.pk}/")
    assert response.status == 404
    assert "别的社区的心愿" not in phone_page.inner_text("body")
    assert phone_page.goto(f"{live_server.url}/party/wishes/{mine.pk}/").status == 200

    # A forged choice of another community's grid in the posting form is refused.
    phone_page.goto(f"{live_server.url}/party/wishes/new/")
    phone_page.evaluate(
        """(pk) => {
            const select = document.querySelector("#id_region");
            select.add(new Option("forged", pk));
            select.value = pk;
        }""",
        str(tree["grids"][2].pk),
    )
    phone_page.fill("#id_title", "越界的心愿")
    phone_page.fill("#id_beneficiary", "某人")
    phone_page.get_by_role("button", name="发布", exact=True).click()
    expect(phone_page.locator(".errorlist")).to_be_visible()
    expect(phone_page.locator("h1")).to_have_text("发布心愿")
    assert not Wish.objects.filter(title="越界的心愿").exists()
    elsewhere.refresh_from_db()
    assert elsewhere.state == WishState.POSTED


# --- Language ----------------------------------------------------------------------


def test_rankings_page_switches_to_english_and_back(
    phone_page, live_server, tree, street_staff, tmp_path
):
    resident = _resident(tree["grids"][0], name="张三丰")
    _credit(street_staff, resident, 20, "清理楼道")
    url = f"{live_server.url}{rankings_url(tree['communities'][0])}?month=0"
    phone_page.goto(url)
    expect(phone_page.locator("h1")).to_have_text("诚信文明积分排行")

    phone_page.get_by_role("button", name="English").click()
    expect(phone_page.locator("h1")).to_have_text("Integrity and civility ranking")
    assert phone_page.url == url  # back on the same page
    assert phone_page.get_attribute("html", "lang") == "en"
    expect(phone_page.locator("thead")).to_contain_text("Rank")
    expect(phone_page.locator("tbody")).to_contain_text("张*丰")
    _shot(phone_page, tmp_path, "rankings_en")

    phone_page.get_by_role("button", name="中文").click()
    expect(phone_page.locator("h1")).to_have_text("诚信文明积分排行")


def test_statement_switches_to_english(phone_page, live_server, tree):
    resident = _resident(tree["grids"][0], name="张三丰")
    phone_page.goto(live_server.url + statement_url(resident))
    expect(phone_page.locator("h1")).to_have_text("我的积分")
    phone_page.get_by_role("button", name="English").click()
    expect(phone_page.locator("h1")).to_have_text("My points", timeout=5000)
