"""A topic taken through the six steps (六步议事) to a published result in
headless Chromium on a phone screen, in Chinese: raised, screened (五议五不议),
three steps recorded, a vote opened with paper ballots recorded and counted
(四步走), the last steps recorded, and the outcome on the community's public
notice page without a login."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from partyorg.deliberation.choices import TopicKind, TopicState, VoteResult
from partyorg.deliberation.models import Topic
from partyorg.deliberation.views import notice_url
from tests.browser.test_phone_pages import _login_by_cookie, _shot
from tests.partyorg.deliberation.factories import council_with_members

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _record_step(page, owner, minutes, *, done):
    today = timezone.localdate().isoformat()
    page.fill("#id_record-owner", owner)
    page.fill(
        "#id_record-participants", "社区党组织、居委会、物业公司、业委会、居民代表"
    )
    page.fill("#id_record-minutes", minutes)
    page.fill("#id_record-started_on", today)
    page.fill("#id_record-completed_on", today)
    page.click("#record button[type=submit]")
    expect(page.locator(".path li.done")).to_have_count(done)


def test_topic_through_six_steps_to_a_published_result(
    browser, phone_page, live_server, client, tree, community_staff, tmp_path
):
    page = phone_page
    community, grid = tree["communities"][0], tree["grids"][0]
    council = council_with_members(community_staff, community, size=3)
    _login_by_cookie(page, live_server, client, community_staff)

    # 收集问题: raise the topic.
    page.goto(f"{live_server.url}/m/party/deliberation/topics/")
    expect(page.locator("h1")).to_have_text("议事议题")
    page.goto(f"{live_server.url}/m/party/deliberation/topics/new/")
    page.select_option("#id_region", label=grid.name)
    page.fill("#id_title", "三号楼加装电梯")
    page.fill("#id_description", "居民希望加装电梯，出资比例需协商。")
    page.select_option("#id_source", "resident")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("三号楼加装电梯")
    expect(page.locator(".topic-state")).to_have_text("待筛选")
    topic = Topic.objects.get(title="三号楼加装电梯")

    # 五议五不议: admitted as a shared affair, to the residents' council.
    page.select_option("#id_kind", TopicKind.PUBLIC_AFFAIRS)
    page.select_option("#id_council", str(council.pk))
    page.click("#screen button[type=submit]")
    expect(page.locator(".topic-state")).to_have_text("议事中")
    expect(page.locator("#record h2")).to_contain_text("收集问题")
    _shot(page, tmp_path, "topic_admitted")

    _record_step(page, "网格长李明", "入户收集意见十二条。", done=1)
    expect(page.locator("#record h2")).to_contain_text("拟定议题")
    _record_step(page, "王芳", "拟定议题：三号楼加装电梯方案。", done=2)
    _record_step(page, "王芳", "走访住户，征求低层住户意见。", done=3)

    # 多方商议: the meeting page shows the seven rules; the vote (四步走).
    expect(page.locator(".meeting-rules li")).to_have_count(7)
    expect(page.locator(".meeting-rules")).to_contain_text("一事一议")
    page.fill("#id_text", "同意按方案加装电梯")
    page.click("#open-vote button[type=submit]")
    expect(page.locator(".paper-ballot")).to_have_count(3)
    _shot(page, tmp_path, "topic_vote_open")
    for left in (3, 2, 1):
        expect(page.locator(".paper-ballot")).to_have_count(left)
        form = page.locator(".paper-ballot").first
        form.locator("select").select_option("for")
        form.locator("button").click()
    expect(page.locator(".paper-ballot")).to_have_count(0)
    page.click(".count-vote")
    expect(page.locator(".vote-result")).to_have_text("通过")
    _record_step(page, "王芳", "联席会议表决通过，形成协商意见。", done=4)

    # 公开协商结果, 监督执行.
    _record_step(page, "王芳", "协商结果在公示栏和网上公开。", done=5)
    _record_step(page, "张建国", "施工按期进行，居民监督小组每周巡查。", done=6)
    expect(page.locator(".topic-state")).to_have_text("已办结")
    _shot(page, tmp_path, "topic_concluded")

    topic.refresh_from_db()
    assert topic.state == TopicState.CONCLUDED and topic.steps_done == 6
    assert topic.vote_items.get().result == VoteResult.PASSED

    # The public notice page, with no account.
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}
    )
    public = context.new_page()
    public.goto(f"{live_server.url}{notice_url(community)}")
    card = public.locator(".notice-topic", has_text="三号楼加装电梯")
    expect(card).to_contain_text("通过")
    expect(card).to_contain_text("协商结果在公示栏和网上公开")
    expect(card).to_contain_text("张*国")
    assert "张建国" not in public.inner_text("body")
    _shot(public, tmp_path, "notice")
    context.close()
