"""Demo data of community deliberation for ``manage.py seed_demo`` (called by
``partyorg.demo`` after the party tree).

In the first three communities of the demo district (a closed estate on the six
steps, an open community on 四+五, a village-turned-community on 一报四议两公开):
a council with seats from the roster, the party members and the households,
and topics stopped at every step of the community's path — plus one waiting
for screening, one refused as a private dispute (pointed to the ticket path)
and, where the community has a ticket, one raised from it. Everything goes
through the services with the clock moved (``time_machine``); votes are cast as
paper ballots recorded by the community's staff and counted.
Idempotent: nothing happens when a topic exists already.
"""

import datetime as dt

import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from grids.choices import RegionLevel
from grids.demo import unit_accounts
from grids.models import GridWorker, Region, Resident
from grids.querysets import subtree_q

from ..models import PartyMember
from . import services
from .choices import (
    DECISION_STEPS,
    PATH_STEPS,
    CommunityKind,
    CouncilKind,
    MemberSide,
    TopicKind,
    TopicSource,
    Vote,
)
from .models import Topic

KINDS = (
    CommunityKind.CLOSED_ESTATE,
    CommunityKind.OPEN,
    CommunityKind.VILLAGE_TO_COMMUNITY,
)
TOPICS = (
    ("小区加装电梯", "老旧楼栋居民希望加装电梯，需协商出资比例和位置。"),
    ("楼道堆物清理", "楼道杂物堆放影响消防通道。"),
    ("停车位重新划线", "夜间停车难，居民建议重新规划车位。"),
    ("健身器材更新", "广场健身器材老化，建议用社区公益金更新。"),
    ("垃圾分类投放点调整", "投放点离住户太近，异味大。"),
    ("老年食堂选址", "为独居老人设立助餐点。"),
    ("增设电动车充电桩", "飞线充电隐患多，建议集中充电。"),
    ("背街小巷路灯维修", "夜间照明不足，居民出行不便。"),
)
STEP_NOTES = "会议按协商七条进行，各方充分发表意见，形成一致意见。"


def seed(*, stdout, rng) -> None:
    if Topic.objects.exists():
        stdout.write("deliberation: demo topics exist, nothing to do")
        return
    district = (
        Region.objects.filter(level=RegionLevel.DISTRICT)
        .order_by("tree_id", "lft")
        .first()
    )
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    if district is None or admin is None:
        stdout.write("deliberation: no district or administrator, nothing to do")
        return
    staff = unit_accounts(admin, district)
    communities = list(
        Region.objects.in_subtree(district)
        .filter(level=RegionLevel.COMMUNITY, is_active=True)
        .order_by("tree_id", "lft")[: len(KINDS)]
    )
    now = timezone.now()
    for community, kind in zip(communities, KINDS, strict=False):
        actor = staff[community.pk]
        services.community_kind_set(actor=actor, community=community, kind=kind)
        council = _council(actor, community, kind)
        _topics(rng, actor, community, council, now)
    stdout.write(
        f"deliberation: {Topic.objects.count()} topics in {len(communities)} "
        "communities"
    )


def _council(actor, community, kind):
    council = services.council_create(
        actor=actor,
        region=community,
        name=f"{community.name}"
        + ("五位一体联席会" if kind == CommunityKind.CLOSED_ESTATE else "居民议事会"),
        kind=(
            CouncilKind.FIVE_IN_ONE
            if kind == CommunityKind.CLOSED_ESTATE
            else CouncilKind.RESIDENTS
        ),
        secret_ballot=kind == CommunityKind.OPEN,
    )
    workers = (
        GridWorker.objects.filter(
            subtree_q(community, "assignments__grid"),
            assignments__ended_on__isnull=True,
        )
        .distinct()
        .order_by("pk")[:3]
    )
    for worker in workers:
        services.council_member_add(
            actor=actor,
            council_id=council.pk,
            side=MemberSide.GRID_WORKER,
            grid_worker=worker,
        )
    for member in PartyMember.objects.filter(
        subtree_q(community, "organisation__region"), is_active=True
    ).order_by("pk")[:2]:
        services.council_member_add(
            actor=actor,
            council_id=council.pk,
            side=MemberSide.PARTY_MEMBER,
            party_member=member,
        )
    for resident in Resident.objects.filter(
        subtree_q(community, "household__region"), is_active=True
    ).order_by("pk")[:2]:
        services.council_member_add(
            actor=actor,
            council_id=council.pk,
            side=MemberSide.RESIDENT,
            resident=resident,
        )
    for side, name in (
        (MemberSide.PROPERTY_COMPANY, "物业公司项目经理"),
        (MemberSide.OWNERS_COMMITTEE, "业委会主任"),
    ):
        services.council_member_add(
            actor=actor, council_id=council.pk, side=side, name=name
        )
    return council


def _topics(rng, actor, community, council, now) -> None:
    grids = list(community.get_children().filter(level=RegionLevel.GRID))
    steps = PATH_STEPS[services.path_for(community)]
    for done in range(len(steps) + 1):
        title, description = TOPICS[done % len(TOPICS)]
        raised_at = now - dt.timedelta(days=40 - done * 3, hours=rng.uniform(0, 6))
        with time_machine.travel(raised_at, tick=False):
            topic = services.topic_raise(
                actor=actor,
                region=rng.choice(grids) if grids else community,
                title=title,
                description=description,
                source=TopicSource.RESIDENT,
            )
            services.topic_screen(
                actor=actor,
                topic_id=topic.pk,
                kind=TopicKind.PUBLIC_AFFAIRS,
                council=council,
            )
        for k, step in enumerate(steps[:done], start=1):
            at = raised_at + dt.timedelta(days=k)
            with time_machine.travel(at, tick=False):
                if step in DECISION_STEPS:
                    _vote(rng, actor, topic)
                services.topic_step_record(
                    actor=actor,
                    topic_id=topic.pk,
                    step=step,
                    owner=str(actor),
                    participants="社区党组织、居委会、居民代表、物业公司、业委会",
                    minutes=STEP_NOTES,
                    started_on=timezone.localdate() - dt.timedelta(days=1),
                    completed_on=timezone.localdate(),
                )
    with time_machine.travel(now - dt.timedelta(days=2), tick=False):
        services.topic_raise(
            actor=actor, region=community, title="社区广场舞噪音", description=""
        )
        refused = services.topic_raise(
            actor=actor, region=community, title="两户邻居漏水纠纷"
        )
        services.topic_screen(
            actor=actor,
            topic_id=refused.pk,
            kind=TopicKind.PRIVATE_DISPUTE,
            note="建议通过人民调解解决。",
        )


def _vote(rng, actor, topic) -> None:
    item = services.vote_item_open(
        actor=actor, topic_id=topic.pk, text=f"是否同意《{topic.title}》实施方案"
    )
    for ballot in item.ballots.order_by("pk"):
        vote = rng.choices((Vote.FOR, Vote.AGAINST, Vote.ABSTAIN), (8, 1, 1))[0]
        services.ballot_cast(actor=actor, ballot_id=ballot.pk, vote=vote)
    services.vote_item_count(actor=actor, item_id=item.pk)
