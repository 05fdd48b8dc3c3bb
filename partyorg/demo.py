"""Demo data of the partyorg app for ``manage.py seed_demo`` (after the grids demo).

A full party tree over the demo district (街道党工委 → 社区党委 → 网格党支部 →
楼栋党小组 → 楼道红管家), with a few grids left without a branch so the coverage
report has something to show, and its party members (grid heads linked to the
roster, building and unit heads): reference data, inserted with bulk_create and
the MPTT columns rebuilt in one pass.

Everything with a lifecycle goes through the services, with the clock moved to
the moment it happened (``time_machine``): in-service members registered at
their residence community (双报到) with a year and a half of service records,
and micro-wishes in every grid — posted, claimed, released, fulfilled, refused,
confirmed, withdrawn, cancelled — by the community's staff and grid workers.
Idempotent: nothing happens when a working committee exists already.
"""

import datetime as dt
import io
from decimal import Decimal

import time_machine
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from grids.choices import RegionLevel, UserRole, WorkerRole
from grids.demo import unit_accounts
from grids.models import GridAssignment, Region

from . import services
from .choices import OrgType
from .deliberation import demo as deliberation_demo
from .models import PartyMember, PartyOrg, Registration, ServiceRecord, Wish

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


def seed(*, stdout, rng, small: bool = False) -> None:
    """``small`` changes nothing here: the party side is small already."""
    if PartyOrg.objects.filter(org_type=OrgType.WORKING_COMMITTEE).exists():
        stdout.write("partyorg: demo party tree exists, nothing to do")
        deliberation_demo.seed(stdout=stdout, rng=rng)
        return
    district = (
        Region.objects.filter(level=RegionLevel.DISTRICT)
        .order_by("tree_id", "lft")
        .first()
    )
    if district is None:
        stdout.write("partyorg: no district yet (run the grids demo first)")
        return
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        stdout.write("partyorg: no administrator to open the accounts, nothing to do")
        return
    with transaction.atomic():
        orgs = _party_tree(district)
        used_phones = set(PartyMember.objects.values_list("phone", flat=True))
        _members(rng, district, orgs, used_phones)
    staff = unit_accounts(admin, district)
    now = timezone.now()
    registered = _in_service(rng, district, staff, used_phones, now)
    _wishes(rng, district, orgs, registered, staff, now)
    services.wishes_notify_stale()
    deliberation_demo.seed(stdout=stdout, rng=rng)
    stdout.write(
        f"partyorg: {PartyOrg.objects.count()} party organisations, "
        f"{PartyMember.objects.count()} members, "
        f"{Registration.objects.count()} registrations, "
        f"{ServiceRecord.objects.count()} service records, "
        f"{Wish.objects.count()} micro-wishes"
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


def _at(day: dt.date, hour: int, now) -> dt.datetime:
    """``hour`` o'clock local on ``day``, but never after ``now``."""
    moment = dt.datetime.combine(
        day, dt.time(hour), tzinfo=timezone.get_current_timezone()
    )
    return min(moment, now)


def _in_service(rng, district, staff, used_phones, now) -> dict:
    """In-service members registered at their residence community by its staff
    (双报到), and the services they gave there since. Community id → members."""
    today = timezone.localdate(now)
    start_of_last_year = dt.date(today.year - 1, 1, 1)
    registered = {}
    for community in _nodes(district, RegionLevel.COMMUNITY):
        actor = staff[community.pk]
        for _ in range(rng.randint(5, 8)):
            registered_on = start_of_last_year + dt.timedelta(days=rng.randrange(60))
            with time_machine.travel(_at(registered_on, 10, now), tick=False):
                member = services.party_member_create(
                    actor=actor,
                    name=_name(rng),
                    phone=_phone(rng, used_phones),
                    is_in_service=True,
                    employer=rng.choice(EMPLOYERS),
                    community=community,
                    registered_on=registered_on,
                )
            registration = Registration.objects.get(member=member, is_active=True)
            registered.setdefault(community.pk, []).append(member)
            days = max(1, (today - registered_on).days)
            for served_on in sorted(
                registered_on + dt.timedelta(days=rng.randrange(days))
                for _ in range(rng.randint(3, 10))
            ):
                with time_machine.travel(_at(served_on, 18, now), tick=False):
                    services.service_record_log(
                        actor=actor,
                        registration_id=registration.pk,
                        task=rng.choice(SERVICE_TASKS),
                        hours=Decimal(rng.choice(("1", "1.5", "2", "3", "4"))),
                        served_on=served_on,
                    )
    return registered


# Each wish's story: the steps after it was posted. Every community gets them
# all, and each of its grids some; the second "posted" wish is left unclaimed
# past the stale limit, so the stale list has something to show.
WISH_STORIES = (
    (),
    ("claim",),
    ("claim", "fulfil"),
    ("claim", "fulfil", "confirm"),
    ("claim", "fulfil", "reject", "fulfil", "confirm"),
    ("claim", "release"),
    ("claim", "release", "claim", "fulfil"),
    ("withdraw",),
    ("claim", "withdraw"),
    ("cancel",),
    ("claim", "cancel"),
    (),
)
WISHES_PER_GRID = 2
NOTES = {
    "claim": "党员主动认领",
    "release": "工作调动,无法按时完成,退回重新认领",
    "fulfil": "已送到居民家中",
    "reject": "居民反映尚未收到,请再次落实",
    "confirm": "已电话回访居民,确认实现",
    "withdraw": "居民家属已自行解决",
    "cancel": "与已有心愿重复",
}


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 50)).save(buffer, format="PNG")
    return buffer.getvalue()


def _wishes(rng, district, orgs, registered, staff, now) -> None:
    """Micro-wishes in every grid, each moved through its story by the
    community's staff (claims recorded for the member), with the clock at each
    step."""
    members_by_org = {}
    for member in PartyMember.objects.filter(
        organisation__isnull=False, is_active=True
    ).only("pk", "organisation_id"):
        members_by_org.setdefault(member.organisation_id, []).append(member)
    workers = {}
    for user in (
        get_user_model()
        .objects.filter(
            role=UserRole.GRID_WORKER, is_active=True, region__in=orgs["grids"]
        )
        .order_by("pk")
    ):
        workers.setdefault(user.region_id, []).append(user)
    photo = _photo()
    grids_by_community = {}
    for grid in orgs["grids"]:
        grids_by_community.setdefault(grid.parent_id, []).append(grid)
    for community in _nodes(district, RegionLevel.COMMUNITY):
        actor = staff[community.pk]
        slots = [
            grid
            for grid in grids_by_community.get(community.pk, [])
            for _ in range(WISHES_PER_GRID)
        ]
        for n, grid in enumerate(slots):
            story = WISH_STORIES[n % len(WISH_STORIES)]
            branch = orgs["by_grid"].get(grid.pk)
            candidates = (members_by_org.get(branch.pk) if branch else None) or (
                registered.get(community.pk, [])
            )
            if "claim" in story and not candidates:
                story = ()
            days_ago = 12 if n == len(WISH_STORIES) - 1 else rng.uniform(2, 30)
            posted_at = now - dt.timedelta(days=days_ago, hours=rng.uniform(0, 8))
            gap = (now - posted_at) / (len(story) + 1)
            title, beneficiary, value = rng.choice(WISHES)
            poster = rng.choice(workers.get(grid.pk) or [actor])
            with time_machine.travel(posted_at, tick=False):
                wish = services.wish_post(
                    actor=poster,
                    region=grid,
                    title=title,
                    beneficiary=beneficiary,
                    estimated_value=value,
                )
            for k, step in enumerate(story, start=1):
                at = posted_at + gap * (k - rng.uniform(0, 0.5))
                with time_machine.travel(at, tick=False):
                    _wish_step(
                        step,
                        wish,
                        actor,
                        poster,
                        rng.choice(candidates or [None]),
                        photo,
                    )


def _wish_step(step, wish, actor, poster, member, photo) -> None:
    note = NOTES[step]
    if step == "claim":
        services.wish_claim(actor=actor, wish_id=wish.pk, member=member, note=note)
    elif step == "release":
        services.wish_release(actor=actor, wish_id=wish.pk, note=note)
    elif step == "fulfil":
        services.wish_fulfil(
            actor=actor,
            wish_id=wish.pk,
            note=note,
            photo=ContentFile(photo, name="wish.png"),
        )
    elif step == "reject":
        services.wish_reject(actor=actor, wish_id=wish.pk, note=note)
    elif step == "confirm":
        services.wish_confirm(actor=actor, wish_id=wish.pk, note=note)
    elif step == "withdraw":
        services.wish_withdraw(actor=poster, wish_id=wish.pk, note=note)
    elif step == "cancel":
        services.wish_cancel(actor=actor, wish_id=wish.pk, note=note)
