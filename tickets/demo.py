"""Demo data of the tickets app for ``manage.py seed_demo``: the catalogue of
departments and categories, the accounts that work the tickets, and ~330
tickets received over the last weeks in every stage, some overdue and escalated
(seed 004, "六单").

Nothing here knows the rules: every ticket is received with ``ticket_create``
at its receipt time and moved step by step with the real services, each at a
plausible later moment with the clock moved there (``time_machine``); never
after real now. Escalation, reminders and 未评价 come from the periodic jobs,
run every two office hours across the period and once more at real now. The
steps of all tickets and the job runs are played in one time order, so a job
sees every ticket as it stood at that hour. Idempotent: nothing happens when
the catalogue exists already.
"""

import datetime as dt
import heapq
import itertools
from decimal import Decimal

import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from grids import services as grid_services
from grids.choices import RegionLevel, UserRole
from grids.demo import DEMO_PASSWORD, unit_accounts
from grids.models import Region

from . import services
from .choices import DeadlineClass, Source, Stage, Verdict
from .models import Category, Department, Ticket, TicketEvent
from .workcalendar import WORKDAY_END, WORKDAY_START, WorkCalendar

DEMO_TICKETS = 320  # and ~3% more duplicates, merged
DEMO_DAYS_BACK = 50
# A year of history before those weeks, thinner, so the monthly indicators,
# ratings and trends have twelve months to show (governance/demo.py rates them).
HISTORY_TICKETS = 360
HISTORY_DAYS_BACK = 365
DEPARTMENTS = ("城管", "公安", "综治", "民政", "住建", "物业", "市场监管", "环卫")
# Departments that take tickets themselves in the demo; each gets one account.
DEPARTMENT_ACCOUNTS = ("城管", "环卫")
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
# What the resident says in the first round; None: no verdict in the wait (未评价).
VERDICT_WEIGHTS = (
    (Verdict.SATISFIED, 72),
    (Verdict.ORDINARY, 14),
    (Verdict.DISSATISFIED, 6),
    (None, 8),
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
# The periodic jobs run every two hours of the office day (10:00–18:00 local):
# every deadline falls at 17:30, so an escalation is seen within the half hour,
# a reminder (4 working hours before) within two.
JOB_HOURS = range(10, 19, 2)
# In the older history the jobs run three times a working day (a deadline falls
# at 17:30 on a working day, so the 18:00 run still sees it within the half
# hour); fewer runs keep seed_demo fast.
HISTORY_JOB_HOURS = (10, 14, 18)


def _pick(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _catalogue():
    """Reference data (the departments and the category tree), written directly:
    the app has no service for it yet."""
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


class _Cast:
    """The accounts that work the demo tickets, opened through the account
    service where missing: per street the centre's clerk (制单, 考单) and a
    responsible leader (派单); per community its staff (接单, 回访) — both from
    ``grids.demo.unit_accounts``; per department that takes tickets one
    member; handlers are the grid workers' accounts of a grid, else the
    community's staff."""

    def __init__(self, admin, district, streets, grids, departments):
        User = get_user_model()
        self.admin = admin
        self.clerk, self.leader, self.department_member = {}, {}, {}
        self.unit = unit_accounts(admin, district)
        for street in streets:
            self.clerk[street.pk] = self.unit[street.pk]
        for i, street in enumerate(streets, start=1):
            self.leader[street.pk] = self._open(
                f"tickets_l{i}",
                UserRole.STREET_STAFF,
                street,
                SURNAMES[-i],
                "分管领导",
            )
        for i, name in enumerate(DEPARTMENT_ACCOUNTS, start=1):
            member = self._open(
                f"tickets_d{i}", UserRole.STREET_STAFF, streets[0], name, "专员"
            )
            departments[name].members.add(member)
            self.department_member[departments[name].pk] = member
        self.workers = {}
        grid_of = {g.pk: g.pk for g in grids}
        grid_of.update(
            Region.objects.filter(parent__in=grids).values_list("pk", "parent_id")
        )
        for user in User.objects.filter(
            role=UserRole.GRID_WORKER, is_active=True, region__in=grid_of
        ).order_by("pk"):
            self.workers.setdefault(grid_of[user.region_id], []).append(user)

    def _open(self, username, role, region, last_name, first_name):
        return grid_services.staff_account_create(
            actor=self.admin,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            region=region,
            last_name=last_name,
            first_name=first_name,
        )


class _Clock:
    """Office hours on the real working calendar: when a person acts next."""

    def __init__(self, rng):
        self.rng = rng
        self.calendar = WorkCalendar()

    def workday(self, day: dt.date) -> bool:
        return self.calendar.day(day)[0]

    def after(self, start: dt.datetime, hours: float) -> dt.datetime:
        """Roughly ``hours`` after ``start``, moved into office hours."""
        at = timezone.localtime(
            start + dt.timedelta(hours=hours * self.rng.uniform(0.6, 1.4))
        )
        day, time = at.date(), at.time()
        if self.workday(day) and WORKDAY_START <= time < WORKDAY_END:
            return at
        if not (self.workday(day) and time < WORKDAY_START):
            day += dt.timedelta(days=1)
            while not self.workday(day):
                day += dt.timedelta(days=1)
        opening = dt.datetime.combine(day, WORKDAY_START, tzinfo=at.tzinfo)
        return opening + dt.timedelta(minutes=self.rng.randint(5, 150))

    def late(self, deadline: dt.datetime) -> dt.datetime:
        """A moment after ``deadline``: the step that missed it."""
        return self.after(deadline, self.rng.uniform(3, 30))


def seed(*, stdout, rng, small: bool = False) -> None:
    """``small``: a third of the tickets (for tests)."""
    if Category.objects.exists() or Ticket.objects.exists():
        stdout.write("tickets: catalogue exists, nothing to do")
        return
    district = Region.objects.filter(level=RegionLevel.DISTRICT).order_by("pk").first()
    if district is None:
        stdout.write("tickets: no district yet (run the grids demo first)")
        return
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        stdout.write("tickets: no administrator to open the accounts, nothing to do")
        return
    subtree = Region.objects.in_subtree(district).order_by("tree_id", "lft")
    streets = list(subtree.filter(level=RegionLevel.STREET))
    communities = list(subtree.filter(level=RegionLevel.COMMUNITY))
    grids = list(subtree.filter(level=RegionLevel.GRID))
    if not grids:
        stdout.write("tickets: no grids yet, nothing to do")
        return
    buildings = {}
    for building in subtree.filter(level=RegionLevel.BUILDING):
        buildings.setdefault(building.parent_id, []).append(building)

    departments, categories = _catalogue()
    cast = _Cast(admin, district, streets, grids, departments)
    community_of = {g.pk: next(c for c in communities if c.contains(g)) for g in grids}
    street_of = {c.pk: next(s for s in streets if s.contains(c)) for c in communities}
    now = timezone.now()
    clock = _Clock(rng)
    plays = []
    recent = DEMO_TICKETS // 3 if small else DEMO_TICKETS
    history = HISTORY_TICKETS // 3 if small else HISTORY_TICKETS
    for i in range(recent + history):
        grid = rng.choice(grids)
        place = grid
        if buildings.get(grid.pk) and rng.random() < 0.3:
            place = rng.choice(buildings[grid.pk])
        if i < recent:
            days_back = rng.uniform(0, DEMO_DAYS_BACK) ** 1.1 / DEMO_DAYS_BACK**0.1
        else:
            days_back = rng.uniform(DEMO_DAYS_BACK, HISTORY_DAYS_BACK)
        received = now - dt.timedelta(days=days_back, hours=rng.uniform(0, 6))
        play = _Play(
            i,
            rng=rng,
            clock=clock,
            cast=cast,
            place=place,
            grid=grid,
            community=community_of[grid.pk],
            street=street_of[community_of[grid.pk].pk],
            category=rng.choice(categories),
            source=_pick(rng, SOURCE_WEIGHTS),
            received=received,
            settled=i >= recent,
        )
        plays.append(play)
        # A second call about the same matter a few hours later: merged.
        if rng.random() < 0.03:
            again = received + dt.timedelta(hours=rng.uniform(1, 4))
            if again < now:
                plays.append(play.duplicate(again, 10_000 + i))
    _run(plays, now=now, clock=clock)
    _report(stdout, now)


class _Play:
    """One ticket's life, as a generator of the moments of its next steps; each
    step calls a service with the clock at that moment."""

    def __init__(
        self,
        number,
        *,
        rng,
        clock,
        cast,
        place,
        grid,
        community,
        street,
        category,
        source,
        received,
        survivor=None,
        settled=False,
    ):
        self.number, self.rng, self.clock, self.cast = number, rng, clock, cast
        self.place, self.grid, self.community, self.street = (
            place,
            grid,
            community,
            street,
        )
        self.category, self.source, self.received = category, source, received
        self.survivor = survivor
        self.ticket = None
        self.latitude = Decimal("36.66") + Decimal(rng.randint(0, 3000)) / 100000
        self.longitude = Decimal("117.02") + Decimal(rng.randint(0, 3000)) / 100000
        self.late = rng.random() < 0.12  # misses one deadline somewhere
        # Stops at some stage and waits there; months-old tickets rarely do.
        self.stall = rng.random() < (0.02 if settled else 0.15)

    def duplicate(self, received, number):
        twin = _Play(
            number,
            rng=self.rng,
            clock=self.clock,
            cast=self.cast,
            place=self.place,
            grid=self.grid,
            community=self.community,
            street=self.street,
            category=self.category,
            source=Source.HOTLINE,
            received=received,
            survivor=self,
        )
        twin.latitude, twin.longitude = self.latitude, self.longitude
        return twin

    # -- who acts ---------------------------------------------------------------
    @property
    def clerk(self):
        return self.cast.clerk[self.street.pk]

    @property
    def leader(self):
        return self.cast.leader[self.street.pk]

    @property
    def unit_staff(self):
        return self.cast.unit[self.community.pk]

    def _handler(self):
        return self.rng.choice(self.cast.workers.get(self.grid.pk) or [self.unit_staff])

    def _intake_actor(self):
        if self.source == Source.PATROL:
            return self.rng.choice(
                self.cast.workers.get(self.grid.pk) or [self.unit_staff]
            )
        return self.clerk

    # -- when -------------------------------------------------------------------
    def _next(self, hours, *, deadline=None, may_miss=True):
        """The moment of the next step (roughly ``hours`` of office time on);
        None when the ticket stalls here. A late ticket misses ``deadline``."""
        if self.stall and self.rng.random() < 0.3:
            return None
        late = self.late and may_miss
        if late and deadline is not None and self.rng.random() < 0.5:
            self.late = False
            return self.clock.late(deadline)
        at = self.clock.after(timezone.now(), hours)
        if deadline is not None and at > deadline and not late:
            at = max(timezone.now(), deadline - dt.timedelta(minutes=30))
        return at

    def _fresh(self):
        self.ticket.refresh_from_db()
        return self.ticket

    def _keep(self, ticket):
        """The ticket as the last service returned it (jobs change only its
        escalation in between, and 未评价, read fresh where it matters)."""
        self.ticket = ticket
        return ticket

    # -- the life -----------------------------------------------------------------
    def steps(self):
        rng = self.rng
        yield self.received
        self.ticket = services.ticket_create(
            actor=self._intake_actor(),
            source=self.source,
            region=self.place,
            category=self.category,
            description=DESCRIPTIONS[self.category.name]
            + ("(重复来电)" if self.survivor else ""),
            hotline_number=(
                f"12345-{timezone.localtime():%Y%m%d}{self.number:05d}"
                if self.source == Source.HOTLINE
                else None
            ),
            address=f"{self.community.name}{rng.randint(1, 40)}号楼",
            latitude=self.latitude,
            longitude=self.longitude,
            reporter_name=rng.choice(SURNAMES)
            + rng.choice(["先生", "女士", "阿姨", "大爷"]),
            reporter_phone=f"13{rng.randint(0, 9)}{rng.randrange(10**8):08d}",
        )
        ticket = self.ticket
        if self.survivor is not None and self.survivor.ticket is not None:
            yield self.clock.after(timezone.now(), 1)
            if self.survivor.ticket in services.ticket_likely_duplicates(ticket=ticket):
                services.ticket_merge(
                    actor=self.clerk,
                    ticket_id=ticket.pk,
                    into_id=self.survivor.ticket.pk,
                    note="同一事项重复来电,合并办理",
                )
                return
        # 制单 (and 派单): by the centre, or in one step by the leader himself.
        at = self._next(3, deadline=ticket.stage_deadline)
        if at is None:
            return
        yield at
        to_department = None
        default = self.category.default_department
        if default and default.pk in self.cast.department_member:
            to_department = default if rng.random() < 0.4 else None
        unit = {"handling_department": to_department} if to_department else {}
        unit = unit or {"handling_region": self.community}
        instructions = "请按时限办理并及时反馈"
        if rng.random() < 0.2:
            self._keep(
                services.ticket_triage_and_dispatch(
                    actor=self.leader,
                    ticket_id=ticket.pk,
                    category=self.category,
                    region=self.place,
                    responsible_leader=self.leader,
                    instructions=instructions,
                    **unit,
                )
            )
        else:
            self._keep(
                services.ticket_triage(
                    actor=self.clerk,
                    ticket_id=ticket.pk,
                    category=self.category,
                    region=self.place,
                    responsible_leader=self.leader,
                )
            )
            if rng.random() < 0.06:  # triaged, waiting for the leader
                return
            at = self._next(2, deadline=self.ticket.stage_deadline)
            if at is None:
                return
            yield at
            self._keep(
                services.ticket_dispatch(
                    actor=self.leader,
                    ticket_id=ticket.pk,
                    instructions=instructions,
                    **unit,
                )
            )
        if not to_department and rng.random() < 0.05:
            # 退单: not this community's matter after all; the leader re-sends.
            at = self._next(3, deadline=self.ticket.stage_deadline)
            if at is None:
                return
            yield at
            services.ticket_return(
                actor=self.unit_staff,
                ticket_id=ticket.pk,
                reason="经核实不属于本社区辖区",
            )
            yield self.clock.after(timezone.now(), 2)
            self._keep(
                services.ticket_dispatch(
                    actor=self.leader,
                    ticket_id=ticket.pk,
                    handling_region=self.community,
                    instructions="已核实属本社区辖区,请接单",
                )
            )
        # 接单: the unit names who goes on site.
        at = self._next(4, deadline=self.ticket.stage_deadline)
        if at is None:
            return
        yield at
        if to_department:
            accepter = handler = self.cast.department_member[to_department.pk]
        else:
            accepter, handler = self.unit_staff, self._handler()
        self._keep(
            services.ticket_accept(actor=accepter, ticket_id=ticket.pk, handler=handler)
        )
        if not to_department and rng.random() < 0.04:
            # 上报: beyond the grid; the street takes it over.
            at = self._next(20, deadline=self.ticket.stage_deadline)
            if at is None:
                return
            yield at
            self._keep(
                services.ticket_report_up(
                    actor=handler,
                    ticket_id=ticket.pk,
                    reason="涉及多个部门,社区无法协调",
                )
            )
            at = self._next(4, deadline=self.ticket.stage_deadline)
            if at is None:
                return
            yield at
            handler = self.clerk
            self._keep(
                services.ticket_accept(
                    actor=self.clerk, ticket_id=ticket.pk, handler=handler
                )
            )
        verdict = _pick(rng, VERDICT_WEIGHTS)
        for round_ in (1, 2):
            # 做单
            deadline = self.ticket.stage_deadline
            days_left = (deadline - timezone.now()).days
            at = self._next(24 * min(max(days_left, 1), 6) * 0.5, deadline=deadline)
            if at is None:
                return
            yield at
            self._keep(
                services.ticket_handle(
                    actor=handler,
                    ticket_id=ticket.pk,
                    cause="现场核实情况属实",
                    crux="责任主体不清,需协调处理",
                    measures="约谈相关方,现场督促整改",
                    result="已整改完毕,现场恢复正常"
                    if round_ == 1
                    else "再次上门整改,居民认可",
                )
            )
            # 评单: by phone or through the signed link; or no verdict at all,
            # and the job marks it 未评价 when the wait is over.
            deadline = self.ticket.stage_deadline
            if verdict is None:
                yield self.clock.after(deadline, 2)
                break
            at = self._next(rng.uniform(8, 60), deadline=deadline, may_miss=False)
            if at is None:
                return
            yield at
            comment = "问题没有彻底解决" if verdict == Verdict.DISSATISFIED else ""
            if rng.random() < 0.5:
                evaluated = services.ticket_record_phone_verdict(
                    actor=self.unit_staff,
                    ticket_id=ticket.pk,
                    verdict=verdict,
                    call_note="电话回访,本人接听",
                    comment=comment,
                )
            else:
                evaluated = services.ticket_evaluate_by_link(
                    ticket_id=ticket.pk,
                    token=services.evaluation_token(ticket=self.ticket),
                    verdict=verdict,
                    comment=comment,
                )
            if self._keep(evaluated).stage != Stage.ACCEPTED:
                break
            # 返工 once; the second round's verdict stands.
            verdict = rng.choice([Verdict.SATISFIED, Verdict.ORDINARY, verdict])
        # 考单
        if self.stall or self._fresh().stage != Stage.EVALUATED:
            return
        yield self.clock.after(timezone.now(), 30)
        scores = services.suggested_scores(self._fresh())  # escalations since
        services.ticket_assess(
            actor=self.clerk,
            ticket_id=ticket.pk,
            satisfaction_score=scores["satisfaction_score"],
            timeliness_score=scores["timeliness_score"],
            effect_score=min(100, scores["effect_score"] - rng.choice([0, 10, 20])),
        )


def _job_times(start, end, *, clock=None):
    """Every other office hour (local) from ``start`` up to ``end``; before the
    last ``DEMO_DAYS_BACK`` days, ``HISTORY_JOB_HOURS`` of working days."""
    day = timezone.localtime(start).date()
    tz = timezone.get_current_timezone()
    dense_from = timezone.localtime(end).date() - dt.timedelta(days=DEMO_DAYS_BACK)
    while True:
        if day >= dense_from:
            hours = JOB_HOURS
        elif clock is not None and not clock.workday(day):
            hours = ()
        else:
            hours = HISTORY_JOB_HOURS
        if day > timezone.localtime(end).date():
            return
        for hour in hours:
            at = dt.datetime.combine(day, dt.time(hour), tzinfo=tz)
            if at > end:
                return
            if at > start:
                yield at
        day += dt.timedelta(days=1)


def _run_jobs(at):
    with time_machine.travel(at, tick=False):
        services.tickets_send_reminders(now=at)
        services.tickets_escalate_overdue(now=at)
        services.tickets_mark_unevaluated(now=at)


def _run(plays, *, now, clock=None):
    """Play every ticket's steps and the hourly job runs in one time order."""
    order = itertools.count()
    queue = []
    for play in plays:
        steps = play.steps()
        heapq.heappush(queue, (next(steps), next(order), steps))
    job_times = _job_times(min(at for at, _n, _s in queue), now, clock=clock)
    job_at = next(job_times, None)
    while queue:
        at, _n, steps = heapq.heappop(queue)
        while job_at is not None and job_at <= at:
            _run_jobs(job_at)
            job_at = next(job_times, None)
        with time_machine.travel(at, tick=False):
            following = next(steps, None)
        if following is not None and following <= now:
            heapq.heappush(queue, (following, next(order), steps))
    while job_at is not None:
        _run_jobs(job_at)
        job_at = next(job_times, None)
    services.tickets_send_reminders()
    services.tickets_escalate_overdue()
    services.tickets_mark_unevaluated()


def _report(stdout, now):
    stages = dict.fromkeys(Stage.values, 0)
    for stage in Ticket.objects.values_list("stage", flat=True):
        stages[stage] += 1
    stdout.write(
        f"tickets: {Ticket.objects.count()} tickets, "
        f"{TicketEvent.objects.count()} events, "
        f"{Ticket.objects.filter(escalation_level__gt=0).count()} escalated, "
        f"{Ticket.objects.overdue(now).count()} overdue; by stage "
        + ", ".join(f"{stage} {count}" for stage, count in stages.items())
    )
