"""Demo data of the partyorg app for ``manage.py seed_demo`` (after the grids demo).

A full party tree over the demo district (街道党工委 → 社区党委 → 网格党支部 →
楼栋党小组 → 楼道红管家), with a few grids left without a branch so the coverage
report has something to show; party members (grid heads linked to the roster,
building and unit heads); in-service members registered at their residence
community with a year and a half of service records; and micro-wishes in every
state with their event log. Idempotent: nothing happens when a working committee
exists already. Rows are inserted with bulk_create; the MPTT columns are then
rebuilt in one pass.
"""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from grids.choices import RegionLevel, UserRole, WorkerRole
from grids.models import GridAssignment, Region

from .choices import OrgType, WishAction, WishState
from .models import (
    PartyMember,
    PartyOrg,
    Registration,
    ServiceRecord,
    Wish,
    WishEvent,
)

UNCOVERED_EVERY = 20  # every 20th grid has no branch yet: coverage ≈ 95%
GROUPS_PER_GRID = 2  # building party groups, on the first buildings of a grid
EMPLOYERS = (
    "区财政局",
    "区教育局",
    "市税务局历下分局",
    "区卫健委",
    "历下区人民法院",
    "区住建局",
    "市公安局历下分局",
    "区市场监管局",
)
SERVICE_TASKS = (
    "政策宣传",
    "巡逻劝导",
    "楼栋观察",
    "环境清洁",
    "文明交通劝导",
    "关爱独居老人",
    "疫苗接种引导",
    "垃圾分类督导",
)
WISHES = (
    ("一台助听器", "独居老人", Decimal("300")),
    ("陪老人聊天读报", "空巢老人", None),
    ("一套初中辅导书", "困难学生", Decimal("120")),
    ("修好轮椅", "残疾居民", Decimal("80")),
    ("一个新书包", "留守儿童", Decimal("60")),
    ("帮忙更换楼道灯泡", "高龄老人", None),
    ("一床冬被", "特困人员", Decimal("200")),
    ("代买常用药", "重病患者家庭", Decimal("50")),
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华玉萍红玲芬燕彬斌宇浩凯健俊帆旭宁龙林欢阳"
)


def _name(rng) -> str:
    return (
        rng.choice(SURNAMES)
        + rng.choice(GIVEN)
        + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    )


def seed(*, stdout, rng) -> None:
    if PartyOrg.objects.filter(org_type=OrgType.WORKING_COMMITTEE).exists():
        stdout.write("partyorg: demo party tree exists, nothing to do")
        return
    district = (
        Region.objects.filter(level=RegionLevel.DISTRICT)
        .order_by("tree_id", "lft")
        .first()
    )
    if district is None:
        stdout.write("partyorg: no district yet (run the grids demo first)")
        return
    with transaction.atomic():
        recorder = _recorder()
        orgs = _party_tree(district)
        used_phones = set(PartyMember.objects.values_list("phone", flat=True))
        _members(rng, district, orgs, used_phones)
        registrations = _in_service(rng, district, recorder, used_phones)
        _wishes(rng, district, orgs, registrations, recorder)
    stdout.write(
        f"partyorg: {PartyOrg.objects.count()} party organisations, "
        f"{PartyMember.objects.count()} members, "
        f"{Registration.objects.count()} registrations, "
        f"{ServiceRecord.objects.count()} service records, "
        f"{Wish.objects.count()} micro-wishes"
    )


def _recorder():
    """The account demo rows are recorded by: the demo superuser, or any."""
    User = get_user_model()
    return (
        User.objects.filter(username="admin").first()
        or User.objects.filter(is_superuser=True).order_by("pk").first()
        or User.objects.order_by("pk").first()
    )


def _nodes(district, level):
    return list(
        Region.objects.in_subtree(district)
        .filter(level=level, is_active=True)
        .order_by("tree_id", "lft")
    )


def _bulk_orgs(rows):
    """Insert organisations with placeholder MPTT columns (rebuilt afterwards)."""
    for org in rows:
        org.lft = org.rght = org.tree_id = org.depth = 0
    return PartyOrg.objects.bulk_create(rows)


def _party_tree(district) -> dict:
    streets = _nodes(district, RegionLevel.STREET)
    communities = _nodes(district, RegionLevel.COMMUNITY)
    grids = _nodes(district, RegionLevel.GRID)
    buildings = _nodes(district, RegionLevel.BUILDING)

    def parent_of(node, candidates):
        return next(c for c in candidates if c.contains(node))

    committees = _bulk_orgs(
        [
            PartyOrg(
                name=f"{s.name}党工委",
                org_type=OrgType.WORKING_COMMITTEE,
                region=s,
                secretary=f"{s.name[:2]}书记",
            )
            for s in streets
        ]
    )
    by_street = dict(zip([s.pk for s in streets], committees, strict=True))
    community_orgs = _bulk_orgs(
        [
            PartyOrg(
                name=f"{c.name}党委",
                org_type=OrgType.COMMUNITY_COMMITTEE,
                region=c,
                parent=by_street[parent_of(c, streets).pk],
            )
            for c in communities
        ]
    )
    by_community = dict(zip([c.pk for c in communities], community_orgs, strict=True))
    covered = [g for i, g in enumerate(grids) if (i + 1) % UNCOVERED_EVERY]
    branches = _bulk_orgs(
        [
            PartyOrg(
                name=f"{g.name}党支部",
                org_type=OrgType.GRID_BRANCH,
                region=g,
                parent=by_community[parent_of(g, communities).pk],
            )
            for g in covered
        ]
    )
    by_grid = dict(zip([g.pk for g in covered], branches, strict=True))
    group_rows, seen_per_grid = [], {}
    for building in buildings:
        grid = next((g for g in covered if g.contains(building)), None)
        if grid is None or seen_per_grid.get(grid.pk, 0) >= GROUPS_PER_GRID:
            continue
        seen_per_grid[grid.pk] = seen_per_grid.get(grid.pk, 0) + 1
        group_rows.append(
            PartyOrg(
                name=f"{building.name}党小组",
                org_type=OrgType.BUILDING_GROUP,
                region=building,
                parent=by_grid[grid.pk],
            )
        )
    groups = _bulk_orgs(group_rows)
    _bulk_orgs(
        [
            PartyOrg(
                name=f"{group.region.name}楼道红管家",
                org_type=OrgType.CORE_HOUSEHOLD,
                region=group.region,
                parent=group,
            )
            for group in groups[::2]
        ]
    )
    PartyOrg.objects.rebuild()
    return {"by_community": by_community, "by_grid": by_grid, "grids": grids}


def _phone(rng, used) -> str:
    while True:
        phone = f"15{rng.randrange(10**9):09d}"
        if phone not in used:
            used.add(phone)
            return phone


def _members(rng, district, orgs, used_phones) -> None:
    by_grid, by_community = orgs["by_grid"], orgs["by_community"]
    heads = (
        GridAssignment.objects.current()
        .in_subtree(district)
        .filter(role=WorkerRole.HEAD, worker__is_party_member=True)
        .select_related("worker", "grid")
        .order_by("grid__lft")
    )
    rows, linked = [], set()
    for assignment in heads:
        worker, grid = assignment.worker, assignment.grid
        org = by_grid.get(grid.pk) or by_community.get(grid.parent_id)
        if worker.pk in linked or worker.phone in used_phones or org is None:
            continue
        linked.add(worker.pk)
        used_phones.add(worker.phone)
        rows.append(
            PartyMember(
                name=worker.name,
                phone=worker.phone,
                organisation=org,
                is_grid_head=True,
                grid_worker=worker,
            )
        )
    for grid in orgs["grids"]:
        org = by_grid.get(grid.pk) or by_community.get(grid.parent_id)
        for i in range(rng.randint(4, 7)):
            rows.append(
                PartyMember(
                    name=_name(rng),
                    phone=_phone(rng, used_phones),
                    organisation=org,
                    is_building_head=i == 0,
                    is_unit_head=i in (1, 2),
                    is_active=rng.random() > 0.03,
                )
            )
    PartyMember.objects.bulk_create(rows, batch_size=2000)


def _in_service(rng, district, recorder, used_phones) -> list:
    today = timezone.localdate()
    start_of_last_year = dt.date(today.year - 1, 1, 1)
    members, community_of = [], []
    for community in _nodes(district, RegionLevel.COMMUNITY):
        for _ in range(rng.randint(5, 8)):
            members.append(
                PartyMember(
                    name=_name(rng),
                    phone=_phone(rng, used_phones),
                    is_in_service=True,
                    employer=rng.choice(EMPLOYERS),
                )
            )
            community_of.append(community)
    members = PartyMember.objects.bulk_create(members)
    registrations = Registration.objects.bulk_create(
        [
            Registration(
                member=member,
                community=community,
                registered_on=start_of_last_year + dt.timedelta(days=rng.randrange(60)),
                recorded_by=recorder,
            )
            for member, community in zip(members, community_of, strict=True)
        ]
    )
    records = []
    for registration in registrations:
        for _ in range(rng.randint(3, 10)):
            served_on = registration.registered_on + dt.timedelta(
                days=rng.randrange(max(1, (today - registration.registered_on).days))
            )
            records.append(
                ServiceRecord(
                    registration=registration,
                    task=rng.choice(SERVICE_TASKS),
                    hours=Decimal(rng.choice(("1", "1.5", "2", "3", "4"))),
                    served_on=min(served_on, today),
                    recorded_by=recorder,
                )
            )
    ServiceRecord.objects.bulk_create(records, batch_size=2000)
    return registrations


def _poster_for(community, recorder):
    User = get_user_model()
    return (
        User.objects.filter(
            role__in=(UserRole.COMMUNITY_STAFF, UserRole.GRID_WORKER),
            region__tree_id=community.tree_id,
            region__lft__gte=community.lft,
            region__rght__lte=community.rght,
        )
        .order_by("pk")
        .first()
        or recorder
    )


# One wish per state per community, plus a stale one: (state, days ago posted).
WISH_PLAN = (
    (WishState.POSTED, 2),
    (WishState.POSTED, 12),  # unclaimed for longer than 7 days: flagged
    (WishState.CLAIMED, 6),
    (WishState.FULFILLED, 9),
    (WishState.CONFIRMED, 20),
    (WishState.WITHDRAWN, 15),
    (WishState.CANCELLED, 18),
)
# The actions that lead from posted to each state, in order.
WISH_PATH = {
    WishState.POSTED: [],
    WishState.CLAIMED: [WishAction.CLAIM],
    WishState.FULFILLED: [WishAction.CLAIM, WishAction.FULFIL],
    WishState.CONFIRMED: [WishAction.CLAIM, WishAction.FULFIL, WishAction.CONFIRM],
    WishState.WITHDRAWN: [WishAction.WITHDRAW],
    WishState.CANCELLED: [WishAction.CLAIM, WishAction.CANCEL],
}
ACTION_TO_STATE = {
    WishAction.CLAIM: WishState.CLAIMED,
    WishAction.FULFIL: WishState.FULFILLED,
    WishAction.CONFIRM: WishState.CONFIRMED,
    WishAction.WITHDRAW: WishState.WITHDRAWN,
    WishAction.CANCEL: WishState.CANCELLED,
}


def _wishes(rng, district, orgs, registrations, recorder) -> None:
    now = timezone.now()
    registered_at = {}
    for registration in registrations:
        registered_at.setdefault(registration.community_id, []).append(
            registration.member
        )
    members_by_org = {}
    for member in PartyMember.objects.filter(
        organisation__isnull=False, is_active=True
    ).only("pk", "organisation_id"):
        members_by_org.setdefault(member.organisation_id, []).append(member)
    grids_by_community = {}
    for grid in orgs["grids"]:
        grids_by_community.setdefault(grid.parent_id, []).append(grid)

    wishes, paths = [], []
    for community in _nodes(district, RegionLevel.COMMUNITY):
        grids = grids_by_community.get(community.pk) or [community]
        poster = _poster_for(community, recorder)
        for state, days_ago in WISH_PLAN:
            region = rng.choice(grids)
            title, beneficiary, value = rng.choice(WISHES)
            branch = orgs["by_grid"].get(region.pk)
            candidates = (members_by_org.get(branch.pk) if branch else None) or (
                registered_at.get(community.pk, [])
            )
            member = rng.choice(candidates) if candidates else None
            path = WISH_PATH[state]
            if WishAction.CLAIM in path and member is None:
                continue
            posted_at = now - dt.timedelta(days=days_ago, hours=rng.randrange(8))
            step = dt.timedelta(days=1)
            wish = Wish(
                region=region,
                community=community,
                title=title,
                beneficiary=beneficiary,
                estimated_value=value,
                state=state,
                posted_by=poster,
                posted_at=posted_at,
            )
            times = {a: posted_at + step * (i + 1) for i, a in enumerate(path)}
            if WishAction.CLAIM in path:
                wish.claimed_by = member
                wish.claimed_at = times[WishAction.CLAIM]
            if WishAction.FULFIL in path:
                wish.fulfilled_at = times[WishAction.FULFIL]
                wish.fulfilment_note = "已送到居民家中"
            if WishAction.CONFIRM in path:
                wish.confirmed_at = times[WishAction.CONFIRM]
            if state in (WishState.CONFIRMED, WishState.WITHDRAWN, WishState.CANCELLED):
                wish.closed_at = times[path[-1]]
            wishes.append(wish)
            paths.append((path, member, poster, times))
    wishes = Wish.objects.bulk_create(wishes)
    events, event_times = [], []
    for wish, (path, member, poster, times) in zip(wishes, paths, strict=True):
        events.append(
            WishEvent(
                wish=wish,
                action=WishAction.POST,
                from_state="",
                to_state=WishState.POSTED,
                actor=poster,
            )
        )
        event_times.append(wish.posted_at)
        state = WishState.POSTED
        for action in path:
            new_state = ACTION_TO_STATE[action]
            events.append(
                WishEvent(
                    wish=wish,
                    action=action,
                    from_state=state,
                    to_state=new_state,
                    actor=poster,
                    member=member,
                    note="演示数据",
                )
            )
            event_times.append(times[action])
            state = new_state
    events = WishEvent.objects.bulk_create(events, batch_size=2000)
    # created_at is auto_now_add; move each event to its step's time.
    for event, when in zip(events, event_times, strict=True):
        event.created_at = when
    WishEvent.objects.bulk_update(events, ["created_at"], batch_size=2000)
