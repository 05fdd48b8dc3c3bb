"""Demo data of the tickets app for ``manage.py seed_demo``: the catalogue of
departments and categories, and a few hundred tickets over the last weeks in
every stage, from every source and category, some overdue and some escalated,
each with the events that brought it where it is (seed 004, "六单").

Tickets are simulated in memory with the real deadline function and inserted
with bulk_create, so the whole seed takes a few seconds. Idempotent: it does
nothing when the catalogue already exists.
"""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from grids.choices import RegionLevel, UserRole
from grids.models import Region

from .choices import (
    HANDLING_WORKING_DAYS,
    HOTLINE_HANDLING_WORKING_DAYS,
    Action,
    DeadlineClass,
    EvaluationChannel,
    Source,
    Stage,
    Verdict,
)
from .models import (
    Category,
    Department,
    Ticket,
    TicketAssessment,
    TicketEvaluation,
    TicketEvent,
)
from .workcalendar import WorkCalendar, add_working_days, working_hours_before

DEMO_TICKETS = 320
DEMO_DAYS_BACK = 50
DEPARTMENTS = ("城管", "公安", "综治", "民政", "住建", "物业", "市场监管", "环卫")
CATEGORIES = {
    # parent: [(child, default department, deadline class)]
    "城市管理": [
        ("占道经营", "城管", DeadlineClass.EASY),
        ("违章搭建", "城管", DeadlineClass.HARD),
        ("乱堆乱放", "环卫", DeadlineClass.EASY),
    ],
    "环境卫生": [
        ("垃圾清运", "环卫", DeadlineClass.EASY),
        ("污水外溢", "住建", DeadlineClass.GENERAL),
    ],
    "矛盾纠纷": [
        ("邻里纠纷", "综治", DeadlineClass.EASY),
        ("物业纠纷", "物业", DeadlineClass.GENERAL),
        ("劳资纠纷", "综治", DeadlineClass.HARD),
    ],
    "民生服务": [
        ("低保救助", "民政", DeadlineClass.GENERAL),
        ("养老服务", "民政", DeadlineClass.GENERAL),
    ],
    "社会治安": [
        ("噪音扰民", "公安", DeadlineClass.EASY),
        ("安全隐患", "公安", DeadlineClass.GENERAL),
    ],
    "房屋建设": [
        ("房屋漏水", "住建", DeadlineClass.GENERAL),
        ("电梯故障", "物业", DeadlineClass.GENERAL),
    ],
}
DESCRIPTIONS = {
    "占道经营": "小区门口流动摊贩占道经营,影响通行",
    "违章搭建": "楼顶私自搭建彩钢房",
    "乱堆乱放": "楼道内堆放杂物,存在消防隐患",
    "垃圾清运": "垃圾桶满溢两天未清运",
    "污水外溢": "雨水井堵塞,污水外溢到路面",
    "邻里纠纷": "楼上漏水引发邻里矛盾",
    "物业纠纷": "物业费上涨,居民有异议",
    "劳资纠纷": "装修工人反映被拖欠工资",
    "低保救助": "独居老人咨询低保申请",
    "养老服务": "高龄老人需要助餐服务",
    "噪音扰民": "夜间广场舞音响声音过大",
    "安全隐患": "电动车楼道内充电",
    "房屋漏水": "老旧小区屋面漏水",
    "电梯故障": "电梯频繁停运,老人出行困难",
}
SOURCE_WEIGHTS = (
    (Source.HOTLINE, 40),
    (Source.PATROL, 30),
    (Source.LETTER_VISIT, 8),
    (Source.PETITION, 5),
    (Source.DEPARTMENT, 7),
    (Source.SELF_REPORT, 10),
)
VERDICT_WEIGHTS = (
    (Verdict.SATISFIED, 72),
    (Verdict.ORDINARY, 14),
    (Verdict.DISSATISFIED, 6),
    (Verdict.UNEVALUATED, 8),
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
HOURS = dt.timedelta(hours=1)


def _pick(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _catalogue():
    departments = {name: Department.objects.create(name=name) for name in DEPARTMENTS}
    categories = []
    for parent_name, children in CATEGORIES.items():
        parent = Category.objects.create(name=parent_name)
        for name, department, deadline_class in children:
            categories.append(
                Category.objects.create(
                    name=name,
                    parent=parent,
                    default_department=departments[department],
                    deadline_class=deadline_class,
                )
            )
    return departments, categories


def _staff(streets, communities, grids_by_community):
    """One street-staff account per street and one community-staff account per
    community (the demo's own, or new ones), and a grid worker per first grid."""
    User = get_user_model()
    password = make_password("gridwork-demo")
    by_region = {}
    for user in User.objects.filter(
        region__in=[*streets, *communities],
        role__in=[UserRole.STREET_STAFF, UserRole.COMMUNITY_STAFF],
        is_active=True,
    ):
        by_region.setdefault(user.region_id, user)
    new = []
    for i, region in enumerate([*streets, *communities]):
        if region.pk in by_region:
            continue
        is_street = region.level == RegionLevel.STREET
        user = User(
            username=f"tickets_{'s' if is_street else 'c'}{i}",
            last_name=SURNAMES[i % len(SURNAMES)],
            first_name="主任" if is_street else "书记",
            role=UserRole.STREET_STAFF if is_street else UserRole.COMMUNITY_STAFF,
            region=region,
            is_staff=True,
            password=password,
        )
        new.append(user)
        by_region[region.pk] = user
    User.objects.bulk_create(new)
    workers = {
        u.region_id: u
        for u in User.objects.filter(
            role=UserRole.GRID_WORKER,
            is_active=True,
            region_id__in=[g for gs in grids_by_community.values() for g in gs],
        )
    }
    return by_region, workers


class _Sim:
    """One ticket simulated forward from its receipt until now."""

    def __init__(self, ticket, calendar, now, street_of):
        self.street_of = street_of
        self.ticket = ticket
        self.calendar = calendar
        self.now = now
        self.events = []
        self.evaluations = []
        self.assessment = None

    def set_deadline(self, start, days):
        t = self.ticket
        if days is None:
            t.stage_deadline = None
            t.deadline_provisional = False
            t.deadline_basis_at = t.deadline_working_days = t.remind_at = None
            return
        deadline = add_working_days(start, days, calendar=self.calendar)
        t.stage_deadline = deadline.at
        t.deadline_provisional = deadline.provisional
        t.deadline_basis_at = start
        t.deadline_working_days = days
        t.remind_at = working_hours_before(deadline.at, 4, calendar=self.calendar)

    def event(self, action, at, *, actor=None, label="", note="", data=None, to=None):
        t = self.ticket
        from_stage = t.stage
        if to is not None:
            t.stage = to
            t.stage_entered_at = at
            if to in (Stage.RECEIVED, Stage.TRIAGED):
                t.holder_region_id = self.street_of(t.region_id)
            elif to in (Stage.DISPATCHED, Stage.ACCEPTED):
                t.holder_region_id = t.handling_region_id or self.street_of(t.region_id)
        self.events.append(
            TicketEvent(
                action=action,
                actor=actor,
                actor_label=label,
                at=at,
                from_stage=from_stage if action != Action.CREATE else "",
                to_stage=t.stage,
                note=note,
                deadline=t.stage_deadline,
                data=data or {},
            )
        )

    def escalate(self, parent_of):
        t = self.ticket
        base = (
            t.escalated_to_id
            or t.holder_region_id
            or t.handling_region_id
            or t.region_id
        )
        t.escalated_to_id = parent_of.get(base) or base
        t.escalation_level += 1
        t.escalated_for_deadline = t.stage_deadline
        self.event(
            Action.ESCALATE,
            t.stage_deadline + dt.timedelta(minutes=5),
            label="system",
            data={"level": t.escalation_level, "to_region": t.escalated_to_id},
        )


def _working_time(rng, start, hours):
    """A moment ``hours`` (roughly) after ``start``."""
    return start + dt.timedelta(hours=hours * rng.uniform(0.6, 1.4))


@transaction.atomic
def seed(*, stdout, rng) -> None:
    if Category.objects.exists() or Ticket.objects.exists():
        stdout.write("tickets: catalogue exists, nothing to do")
        return
    district = Region.objects.filter(level=RegionLevel.DISTRICT).order_by("pk").first()
    if district is None:
        stdout.write("tickets: no district yet (run the grids demo first)")
        return
    nodes = list(
        Region.objects.in_subtree(district).values("pk", "parent_id", "level", "name")
    )
    parent_of = {n["pk"]: n["parent_id"] for n in nodes}
    level_of = {n["pk"]: n["level"] for n in nodes}
    streets = list(Region.objects.in_subtree(district).filter(level=RegionLevel.STREET))
    communities = list(
        Region.objects.in_subtree(district).filter(level=RegionLevel.COMMUNITY)
    )
    grids_by_community = {
        c.pk: [n["pk"] for n in nodes if n["parent_id"] == c.pk] for c in communities
    }
    buildings_by_grid = {}
    for n in nodes:
        if n["level"] == RegionLevel.BUILDING:
            buildings_by_grid.setdefault(n["parent_id"], []).append(n["pk"])
    if not any(grids_by_community.values()):
        stdout.write("tickets: no grids yet, nothing to do")
        return

    def street_of(region_id):
        node = region_id
        while node and level_of.get(node) != RegionLevel.STREET:
            node = parent_of.get(node)
        return node

    departments, categories = _catalogue()
    staff, workers = _staff(streets, communities, grids_by_community)
    calendar = WorkCalendar()
    now = timezone.now()
    sims = []
    merged_pairs = []
    for i in range(DEMO_TICKETS):
        community = rng.choice([c for c in communities if grids_by_community[c.pk]])
        grid_id = rng.choice(grids_by_community[community.pk])
        region_id = grid_id
        if buildings_by_grid.get(grid_id) and rng.random() < 0.3:
            region_id = rng.choice(buildings_by_grid[grid_id])
        category = rng.choice(categories)
        source = _pick(rng, SOURCE_WEIGHTS)
        street_user = staff.get(street_of(community.pk))
        community_user = staff.get(community.pk)
        handler = workers.get(grid_id) or community_user
        received = now - dt.timedelta(
            days=rng.uniform(0, DEMO_DAYS_BACK) ** 1.1 / DEMO_DAYS_BACK**0.1
        )
        received = received.replace(hour=rng.randint(1, 9), minute=rng.randint(0, 59))
        if received > now:
            received = now - dt.timedelta(hours=rng.uniform(1, 6))
        ticket = Ticket(
            source=source,
            hotline_number=f"12345-{received:%Y%m%d}{i:05d}"
            if source == Source.HOTLINE
            else None,
            region_id=region_id,
            address=f"{community.name}{rng.randint(1, 40)}号楼",
            latitude=Decimal("36.66") + Decimal(rng.randint(0, 3000)) / 100000,
            longitude=Decimal("117.02") + Decimal(rng.randint(0, 3000)) / 100000,
            reporter_name=rng.choice(SURNAMES)
            + rng.choice(["先生", "女士", "阿姨", "大爷"]),
            reporter_phone=f"13{rng.randint(0, 9)}{rng.randrange(10**8):08d}",
            description=DESCRIPTIONS[category.name],
            received_at=received,
            stage=Stage.RECEIVED,
            stage_entered_at=received,
            deadline_class=category.deadline_class,
            created_by=handler if source == Source.PATROL else street_user,
        )
        sim = _Sim(ticket, calendar, now, street_of)
        ticket.holder_region_id = street_of(region_id)
        sim.set_deadline(received, 1)
        sim.event(Action.CREATE, received, actor=ticket.created_by)
        sims.append(sim)
        _walk(
            sim,
            rng=rng,
            now=now,
            category=category,
            community=community,
            street_user=street_user,
            community_user=community_user,
            handler=handler,
            departments=departments,
            parent_of=parent_of,
        )
        if rng.random() < 0.03 and ticket.stage not in (Stage.RECEIVED, Stage.MERGED):
            merged_pairs.append(sim)

    Ticket.objects.bulk_create([s.ticket for s in sims], batch_size=200)
    # A few duplicates merged into a ticket of the same grid and category.
    duplicates = []
    for survivor in merged_pairs:
        s = survivor.ticket
        at = s.received_at + dt.timedelta(hours=2)
        dup = Ticket(
            source=Source.HOTLINE,
            hotline_number=f"12345-{at:%Y%m%d}9{s.pk:05d}",
            region_id=s.region_id,
            category=s.category,
            deadline_class=s.deadline_class,
            address=s.address,
            latitude=s.latitude,
            longitude=s.longitude,
            reporter_name=rng.choice(SURNAMES) + "女士",
            reporter_phone=f"15{rng.randint(0, 9)}{rng.randrange(10**8):08d}",
            description=s.description + "(重复来电)",
            received_at=at - HOURS,
            stage=Stage.MERGED,
            stage_entered_at=at,
            merged_into=s,
            closed_at=at,
            created_by=s.created_by,
        )
        sim = _Sim(dup, calendar, now, street_of)
        dup.stage = Stage.RECEIVED
        sim.event(Action.CREATE, at - HOURS, actor=s.created_by)
        sim.event(
            Action.MERGE,
            at,
            actor=s.responsible_leader,
            data={"into": s.pk},
            to=Stage.MERGED,
        )
        duplicates.append(sim)
    Ticket.objects.bulk_create([d.ticket for d in duplicates], batch_size=200)
    for sim in duplicates:
        survivor = sim.ticket.merged_into
        survivor_sim = next(x for x in merged_pairs if x.ticket is survivor)
        survivor_sim.events.append(
            TicketEvent(
                action=Action.MERGE,
                actor=survivor.responsible_leader,
                at=sim.ticket.closed_at,
                from_stage=survivor.stage,
                to_stage=survivor.stage,
                data={"merged": sim.ticket.pk},
            )
        )
    events, evaluations, assessments = [], [], []
    for sim in [*sims, *duplicates]:
        for event in sim.events:
            event.ticket = sim.ticket
            events.append(event)
        for evaluation in sim.evaluations:
            evaluation.ticket = sim.ticket
            evaluations.append(evaluation)
        if sim.assessment is not None:
            sim.assessment.ticket = sim.ticket
            assessments.append(sim.assessment)
    TicketEvent.objects.bulk_create(events, batch_size=500)
    TicketEvaluation.objects.bulk_create(evaluations, batch_size=500)
    TicketAssessment.objects.bulk_create(assessments, batch_size=500)
    stdout.write(
        f"tickets: {len(sims) + len(duplicates)} tickets, {len(events)} events, "
        f"{sum(1 for s in sims if s.ticket.escalation_level)} escalated, "
        f"{sum(1 for s in sims if s.ticket.stage_deadline and s.ticket.stage_deadline < now and s.ticket.stage in (Stage.RECEIVED, Stage.TRIAGED, Stage.DISPATCHED, Stage.ACCEPTED))} overdue"
    )


def _walk(
    sim,
    *,
    rng,
    now,
    category,
    community,
    street_user,
    community_user,
    handler,
    departments,
    parent_of,
):
    """Move a simulated ticket along the six stages until now (or until it stalls)."""
    t = sim.ticket
    late = rng.random() < 0.12  # this ticket misses a deadline somewhere
    stall = rng.random() < 0.15  # it stops at some stage and waits there

    def step(hours):
        """When the next step happens; None if that is still in the future."""
        nonlocal late
        at = _working_time(rng, t.stage_entered_at, hours)
        if late and t.stage_deadline is not None and rng.random() < 0.5:
            at = t.stage_deadline + dt.timedelta(hours=rng.uniform(2, 30))
            late = False
        if stall and rng.random() < 0.3:
            return None
        if at >= now:
            return None
        if t.stage_deadline is not None and at > t.stage_deadline:
            sim.escalate(parent_of)
        return at

    # 制单 + 派单
    at = step(4)
    if at is None:
        return _finish(sim, rng, now, parent_of)
    t.category = category
    t.responsible_leader = street_user
    sim.event(
        Action.TRIAGE,
        at,
        actor=street_user,
        data={"category": category.pk, "region": t.region_id},
        to=Stage.TRIAGED,
    )
    if rng.random() < 0.06:  # triaged, waiting to be dispatched
        return _finish(sim, rng, now, parent_of)
    use_department = rng.random() < 0.15
    if use_department:
        t.handling_department = (
            departments[category.default_department.name]
            if category.default_department
            else None
        )
    if t.handling_department is None:
        t.handling_region = community
    t.instructions = "请按时限办理并及时反馈"
    sim.set_deadline(at, 1)
    sim.event(
        Action.DISPATCH, at, actor=street_user, note=t.instructions, to=Stage.DISPATCHED
    )
    if rng.random() < 0.05 and not use_department:
        at2 = step(3)
        if at2 is None:
            return _finish(sim, rng, now, parent_of)
        t.return_count += 1
        t.handling_region = None
        sim.set_deadline(at2, 1)
        sim.event(
            Action.RETURN,
            at2,
            actor=community_user,
            note="不属于本社区辖区",
            to=Stage.TRIAGED,
        )
        at3 = _working_time(rng, at2, 2)
        if at3 >= now:
            return _finish(sim, rng, now, parent_of)
        t.handling_region = community
        sim.set_deadline(at3, 1)
        sim.event(
            Action.DISPATCH,
            at3,
            actor=street_user,
            note="已核实,请接单",
            to=Stage.DISPATCHED,
        )
    # 接单
    at = step(5)
    if at is None:
        return _finish(sim, rng, now, parent_of)
    accepter = community_user if t.handling_region_id else street_user
    t.handler = handler if t.handling_region_id else street_user
    days = (
        HOTLINE_HANDLING_WORKING_DAYS
        if t.source == Source.HOTLINE
        else HANDLING_WORKING_DAYS[t.deadline_class]
    )
    sim.set_deadline(at, days)
    sim.event(
        Action.ACCEPT,
        at,
        actor=accepter,
        data={"handler": t.handler.pk},
        to=Stage.ACCEPTED,
    )
    for round_ in (1, 2):
        # 做单
        at = step(24 * min(days, 6) * 0.6)
        if at is None:
            return _finish(sim, rng, now, parent_of)
        t.cause = "现场核实情况属实"
        t.crux = "责任主体不清,需协调处理"
        t.measures = "约谈相关方,现场督促整改"
        t.result = "已整改完毕,现场恢复正常"
        sim.set_deadline(at, 3)
        sim.event(Action.HANDLE, at, actor=t.handler, note=t.result, to=Stage.HANDLED)
        # 评单
        verdict = _pick(rng, VERDICT_WEIGHTS)
        at = _working_time(rng, at, 20)
        if verdict == Verdict.UNEVALUATED:
            at = t.stage_deadline + dt.timedelta(minutes=10)
        if at >= now:
            return _finish(sim, rng, now, parent_of)
        channel = rng.choice([EvaluationChannel.PHONE, EvaluationChannel.LINK])
        if verdict == Verdict.UNEVALUATED:
            sim.evaluations.append(
                TicketEvaluation(round=round_, verdict=verdict, at=at)
            )
            t.verdict = verdict
            sim.set_deadline(None, None)
            sim.event(
                Action.UNEVALUATED,
                at,
                label="system",
                data={"round": round_},
                to=Stage.EVALUATED,
            )
            break
        phone_call = channel == EvaluationChannel.PHONE
        sim.evaluations.append(
            TicketEvaluation(
                round=round_,
                verdict=verdict,
                channel=channel,
                reporter_phone=t.reporter_phone,
                recorded_by=community_user if phone_call else None,
                call_note="电话回访,本人接听" if phone_call else "",
                comment="问题没有彻底解决" if verdict == Verdict.DISSATISFIED else "",
                at=at,
            )
        )
        actor_kw = {"actor": community_user} if phone_call else {"label": "reporter"}
        if verdict == Verdict.DISSATISFIED and round_ == 1:
            t.evaluation_round = 2
            sim.set_deadline(at, days)
            sim.event(
                Action.REWORK,
                at,
                note="问题没有彻底解决",
                data={"round": 1, "verdict": verdict},
                to=Stage.ACCEPTED,
                **actor_kw,
            )
            continue
        t.verdict = verdict
        sim.set_deadline(None, None)
        sim.event(
            Action.EVALUATE,
            at,
            data={"round": round_, "verdict": verdict},
            to=Stage.EVALUATED,
            **actor_kw,
        )
        break
    # 考单
    at = _working_time(rng, t.stage_entered_at, 30)
    if at >= now or stall:
        return _finish(sim, rng, now, parent_of)
    satisfaction = {"satisfied": 100, "ordinary": 80, "dissatisfied": 40}.get(
        t.verdict, 60
    )
    timeliness = max(0, 100 - 20 * t.escalation_level)
    effect = rng.choice([80, 90, 100])
    total = (
        Decimal(satisfaction) * Decimal("0.4")
        + Decimal(timeliness) * Decimal("0.3")
        + Decimal(effect) * Decimal("0.3")
    ).quantize(Decimal("0.01"))
    sim.assessment = TicketAssessment(
        satisfaction_score=satisfaction,
        timeliness_score=timeliness,
        effect_score=effect,
        total_score=total,
        assessor=street_user,
        at=at,
    )
    t.closed_at = at
    sim.event(
        Action.ASSESS,
        at,
        actor=street_user,
        data={"total": str(total)},
        to=Stage.CLOSED,
    )
    return None


def _finish(sim, rng, now, parent_of):
    """A ticket stopped in an open stage: if its deadline passed, most are
    escalated already (as the periodic job would have); the rest wait for it."""
    t = sim.ticket
    if (
        t.stage in (Stage.RECEIVED, Stage.TRIAGED, Stage.DISPATCHED, Stage.ACCEPTED)
        and t.stage_deadline is not None
        and t.stage_deadline < now
        and t.escalated_for_deadline != t.stage_deadline
        and rng.random() < 0.7
    ):
        sim.escalate(parent_of)
