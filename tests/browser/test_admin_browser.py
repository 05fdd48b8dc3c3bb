"""Street staff in a real browser: log in, read the region tree in Chinese,
switch to English, and meet a refused import with its row number."""

import pytest

from grids.choices import UserRole
from tests.grids.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-for-tests")
    page.click("input[type=submit]")


def test_street_staff_reads_the_tree_and_switches_language(
    page, live_server, tree, tmp_path
):
    UserFactory(username="jiedao", role=UserRole.STREET_STAFF, region=tree["street"])
    _login(page, live_server, "jiedao")
    page.goto(f"{live_server.url}/admin/grids/region/")
    body = page.inner_text("body")
    assert "测试区社区1第1网格" in body
    assert "测试区" in body and "外区" not in body
    assert "区域" in body  # Chinese by default
    page.screenshot(path=str(tmp_path / "regions.png"), full_page=True)

    page.click("button[name=language][value=en]")
    page.goto(f"{live_server.url}/admin/grids/region/")
    assert "Regions" in page.inner_text("body") or "regions" in page.inner_text("body")


def test_household_import_with_bad_row_shows_the_row_and_writes_nothing(
    page, live_server, tree, tmp_path
):
    from grids.models import Household, Region

    Region.objects.filter(pk=tree["grids"][0].pk).update(code="370102001001001")
    UserFactory(
        username="shequ", role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0]
    )
    csv = tmp_path / "households.csv"
    csv.write_text(
        "region_code,address,household_number\n370102001001001,幸福路1号,H1\n999,不存在路1号,H2\n"
    )
    _login(page, live_server, "shequ")
    page.goto(f"{live_server.url}/admin/grids/household/import/")
    page.set_input_files("input[type=file]", str(csv))
    page.select_option("select[name=format]", label="csv")
    # Read the answer page, not the form while it is being replaced.
    with page.expect_navigation():
        page.click("input[type=submit]")
    body = page.inner_text("body")
    assert "999" in body
    assert Household.objects.count() == 0


def test_triage_names_the_leader_who_dispatches_from_their_queue(
    page, live_server, tree, tmp_path
):
    from tests.tickets.factories import CategoryFactory, new_ticket
    from tickets.choices import Stage
    from tickets.models import Ticket

    triager = UserFactory(
        username="zhongxin", role=UserRole.STREET_STAFF, region=tree["street"]
    )
    leader = UserFactory(
        username="lingdao",
        role=UserRole.STREET_STAFF,
        region=tree["street"],
        first_name="分管",
        last_name="张",
    )
    category = CategoryFactory(name="占道经营")
    ticket = new_ticket(triager, tree, description="小区门口占道经营，影响通行")
    _login(page, live_server, "zhongxin")
    page.goto(f"{live_server.url}/admin/tickets/triagequeueticket/")
    body = page.inner_text("body")
    assert ticket.number in body and "小区门口占道经营" in body
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    assert ticket.number in page.title()
    form = page.locator("form.ticket-action").first
    form.locator("select[name=triage-category]").select_option(str(category.pk))
    form.locator("select[name=triage-region]").select_option(str(tree["grids"][0].pk))
    form.locator("select[name=triage-responsible_leader]").select_option(str(leader.pk))
    form.locator("input[type=submit]").click()
    ticket.refresh_from_db()
    assert ticket.stage == Stage.TRIAGED and ticket.responsible_leader == leader

    page.context.clear_cookies()
    _login(page, live_server, "lingdao")
    page.goto(f"{live_server.url}/admin/tickets/leaderqueueticket/")
    page.click(f"text={ticket.number}")
    page.screenshot(path="/tmp/x/leader.png", full_page=True)
    dispatch = page.locator(
        "form.ticket-action", has=page.locator("select[name=dispatch-handling_region]")
    )
    dispatch.locator("select[name=dispatch-handling_region]").select_option(
        str(tree["communities"][0].pk)
    )
    dispatch.locator("textarea[name=dispatch-instructions]").fill("当日清理")
    dispatch.locator("input[type=submit]").click()
    assert Ticket.objects.get(pk=ticket.pk).stage == Stage.DISPATCHED
    page.screenshot(path="/tmp/x/leader_done.png", full_page=True)
