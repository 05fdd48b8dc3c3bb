"""The deliberation pages: scope (another community's topics are 404), the
forms of each step through the services, the member's ballot, the printed
minutes with the seven rules, and the public notice page with masked names."""

import pytest
from django.urls import reverse
from django.utils import timezone

from grids.choices import UserRole
from partyorg.deliberation import services
from partyorg.deliberation.choices import (
    MEETING_RULES,
    Step,
    TopicKind,
    TopicState,
    Vote,
    VoteResult,
)
from partyorg.deliberation.models import Topic
from partyorg.deliberation.views import notice_signature, notice_url
from tests.grids.factories import UserFactory

from .factories import admitted_topic, council_with_members, walk

pytestmark = pytest.mark.django_db


def _post(client, url, **data):
    return client.post(url, data, follow=True)


def test_topic_list_and_detail_are_scoped(client, tree, community_staff):
    mine = admitted_topic(community_staff, tree["communities"][0], title="我的议题")
    other_staff = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1]
    )
    theirs = admitted_topic(other_staff, tree["communities"][1], title="别人的议题")
    client.force_login(community_staff)
    page = client.get(reverse("m:party:topic_list")).content.decode()
    assert "我的议题" in page and "别人的议题" not in page
    assert (
        client.get(reverse("m:party:topic_detail", args=[mine.pk])).status_code == 200
    )
    assert (
        client.get(reverse("m:party:topic_detail", args=[theirs.pk])).status_code == 404
    )
    assert (
        client.get(reverse("partyorg:topic_minutes", args=[theirs.pk])).status_code
        == 404
    )
    # A post to another community's topic changes nothing.
    response = _post(
        client,
        reverse("m:party:topic_detail", args=[theirs.pk]),
        form="record",
        step=Step.COLLECT,
    )
    assert response.status_code == 404
    assert not theirs.records.exists()


def test_raise_screen_record_on_the_phone(client, tree, grid_worker, community_staff):
    client.force_login(grid_worker)
    form_page = client.get(reverse("m:party:topic_new"))
    assert form_page.status_code == 200
    assert reverse("m:party:topic_from_ticket_find").encode() in form_page.content
    response = _post(
        client,
        reverse("m:party:topic_new"),
        region=tree["grids"][0].pk,
        title="楼下停车难",
        source="resident",
        idempotency_key="key-raise-0001",
    )
    assert response.status_code == 200
    topic = Topic.objects.get(title="楼下停车难")
    # The same form sent twice raises one topic.
    _post(
        client,
        reverse("m:party:topic_new"),
        region=tree["grids"][0].pk,
        title="楼下停车难",
        source="resident",
        idempotency_key="key-raise-0001",
    )
    assert Topic.objects.filter(title="楼下停车难").count() == 1
    # A grid worker may not screen: no screening form, and a forged post is refused.
    url = reverse("m:party:topic_detail", args=[topic.pk])
    assert 'value="screen"' not in client.get(url).content.decode()
    _post(client, url, form="screen", kind=TopicKind.PUBLIC_AFFAIRS)
    topic.refresh_from_db()
    assert topic.state == TopicState.RAISED
    client.force_login(community_staff)
    council = council_with_members(community_staff, tree["communities"][0])
    _post(client, url, form="screen", kind=TopicKind.PUBLIC_AFFAIRS, council=council.pk)
    topic.refresh_from_db()
    assert topic.state == TopicState.IN_PROGRESS and topic.council == council
    today = timezone.localdate().isoformat()
    record = {
        "form": "record",
        "record-owner": "网格长李明",
        "record-participants": "居民代表",
        "record-minutes": "收集到十二条意见",
        "record-started_on": today,
        "record-completed_on": today,
    }
    # Skipping a step is refused with the service's message.
    response = _post(client, url, step=Step.RESEARCH, **record)
    assert "cannot be skipped" in response.content.decode() or "不能跳过" in (
        response.content.decode()
    )
    _post(client, url, step=Step.COLLECT, **record)
    topic.refresh_from_db()
    assert topic.steps_done == 1


def test_refused_dispute_points_to_the_ticket_path(client, tree, community_staff):
    topic = services.topic_raise(
        actor=community_staff, region=tree["grids"][0], title="邻里漏水纠纷"
    )
    services.topic_screen(
        actor=community_staff, topic_id=topic.pk, kind=TopicKind.PRIVATE_DISPUTE
    )
    client.force_login(community_staff)
    page = client.get(reverse("m:party:topic_detail", args=[topic.pk])).content
    assert reverse("m:tickets:report").encode() in page


def test_vote_on_the_pages(client, tree, community_staff):
    community = tree["communities"][0]
    council = council_with_members(community_staff, community, size=3)
    topic = walk(
        community_staff, admitted_topic(community_staff, community, council), 3
    )
    client.force_login(community_staff)
    url = reverse("m:party:topic_detail", args=[topic.pk])
    page = client.get(url).content.decode()
    assert str(MEETING_RULES[0]) in page
    _post(client, url, form="open_vote", text="同意加装电梯")
    item = topic.vote_items.get()
    ballots = list(item.ballots.select_related("member__user").order_by("pk"))
    # A member casts their own ballot on the phone, once.
    member = ballots[0].member.user
    client.force_login(member)
    assert "同意加装电梯" in client.get(reverse("m:party:ballot_list")).content.decode()
    ballot_url = reverse("m:party:ballot_detail", args=[ballots[0].pk])
    _post(client, ballot_url, vote=Vote.FOR)
    _post(client, ballot_url, vote=Vote.AGAINST)
    item.refresh_from_db()
    assert (item.votes_for, item.votes_against) == (1, 0)
    # Another member's ballot does not exist for this member.
    other_url = reverse("m:party:ballot_detail", args=[ballots[1].pk])
    assert client.get(other_url).status_code == 404
    # Staff record a paper ballot and count.
    client.force_login(community_staff)
    _post(
        client,
        url,
        form="paper_ballot",
        item=item.pk,
        ballot=ballots[1].pk,
        vote=Vote.FOR,
    )
    _post(client, url, form="count", item=item.pk)
    item.refresh_from_db()
    assert item.result == VoteResult.PASSED


def test_minutes_show_the_seven_rules(client, tree, community_staff):
    topic = walk(
        community_staff, admitted_topic(community_staff, tree["communities"][0]), 2
    )
    client.force_login(community_staff)
    page = client.get(reverse("partyorg:topic_minutes", args=[topic.pk])).content
    for rule in MEETING_RULES:
        assert str(rule).encode() in page


def test_public_notice_without_login_masks_names(client, tree, community_staff):
    community = tree["communities"][0]
    council = council_with_members(community_staff, community)
    topic = admitted_topic(community_staff, community, council, title="加装电梯")
    walk(community_staff, topic, 4)
    services.topic_step_record(
        actor=community_staff,
        topic_id=topic.pk,
        step=Step.PUBLISH,
        owner="王芳",
        participants="全体居民",
        minutes="表决通过，联系人电话13812345678，身份证110101199003071234",
        started_on=timezone.localdate(),
        completed_on=timezone.localdate(),
    )
    hidden = admitted_topic(community_staff, community, title="还在调研的议题")
    walk(community_staff, hidden, 2)
    page = client.get(notice_url(community))
    assert page.status_code == 200
    body = page.content.decode()
    assert "加装电梯" in body and "还在调研的议题" not in body
    assert "王芳" not in body and "王*" in body
    assert "13812345678" not in body and "110101199003071234" not in body
    assert "138****5678" in body
    forged = reverse(
        "partyorg:deliberation_notice",
        kwargs={"community_id": community.pk, "signature": "forged"},
    )
    assert client.get(forged).status_code == 404
    other = reverse(
        "partyorg:deliberation_notice",
        kwargs={
            "community_id": tree["communities"][1].pk,
            "signature": notice_signature(community),
        },
    )
    assert client.get(other).status_code == 404


def test_ticket_becomes_topic_from_the_phone(
    client, tree, street_staff, community_staff
):
    from tests.tickets.factories import new_ticket

    ticket = new_ticket(street_staff, tree)
    client.force_login(community_staff)
    url = reverse("m:party:topic_from_ticket", args=[ticket.pk])
    found = client.get(
        reverse("m:party:topic_from_ticket_find"), {"number": ticket.number}
    )
    assert found.status_code == 302 and found.url == url
    missing = client.get(reverse("m:party:topic_from_ticket_find"), {"number": "x"})
    assert missing.url == reverse("m:party:topic_new")
    assert client.get(url).status_code == 200
    _post(client, url)
    assert Topic.objects.get(ticket=ticket).source == "ticket"
    far = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])
    client.force_login(far)
    assert client.get(url).status_code == 404
    assert client.get(
        reverse("m:party:topic_from_ticket_find"), {"number": ticket.number}
    ).url == reverse("m:party:topic_new")
