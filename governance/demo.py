"""Demo history of the supervisors' pages for ``manage.py seed_demo``, after
every app's demo: twelve months of 日巡查 (patrols, visits and diary entries
recorded with ``grids.services.patrol_record``), and the monthly rating of each
month (seed 003 月评比) computed with ``rate_grids`` on the 1st at 02:00 as
the job would, published by each street on the 3rd (``ratings_publish``), with
a few appeals (申诉) filed by the community and decided by the street
(``rating_appeal_file`` / ``rating_appeal_decide``), each with the clock moved
to its moment (``time_machine``); the running month stays a draft.

Nothing here knows a rule: the services decide. Idempotent: the patrols are
recorded when there is none, the ratings when there is none. On PostgreSQL and
on SQLite alike (governance.dialect).
"""

import datetime as dt

import time_machine
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from grids.choices import PatrolKind, RegionLevel, UserRole
from grids.demo import unit_accounts
from grids.models import Household, Patrol, Region
from grids.services import patrol_record
from tickets.workcalendar import WorkCalendar

from .indicators import next_month, previous_month
from .models import GridRating, RatingClass, RatingState
from .services import (
    rate_grids,
    rating_appeal_decide,
    rating_appeal_file,
    ratings_publish,
)

HISTORY_MONTHS = 12
PATROL_NOTES = {
    PatrolKind.PATROL: ("巡查无异常", "发现楼道堆物,已提醒清理", "路灯损坏,已上报"),
    PatrolKind.VISIT: ("入户走访,了解老人身体情况", "敲门走访,宣传反诈知识"),
    PatrolKind.DIARY: ("民情日记:居民反映停车难", "民情日记:邻里关系和睦"),
}
APPEALS = 4  # appeals filed over the year; the first half upheld
APPEAL_REASON = "本月多件工单系上级部门职责,网格已按时上报,请求复核"
UPHELD_NOTE = "经核实,相关工单不属网格职责,调整为B类"
REJECTED_NOTE = "经核实,巡查记录不足,维持原评定"


def seed(*, stdout, rng, small: bool = False) -> None:
    district = Region.objects.filter(level=RegionLevel.DISTRICT).order_by("pk").first()
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    if district is None or admin is None:
        stdout.write("governance: no demo district yet, nothing to do")
        return
    now = timezone.now()
    first_month = _month_back(timezone.localdate(now), HISTORY_MONTHS)
    units = unit_accounts(admin, district)
    recorded = _patrols(rng, district, units, first_month, now, small=small)
    patrols = "patrols exist" if recorded is None else f"{recorded} patrols"
    if GridRating.objects.exists():
        stdout.write(f"governance: {patrols}; ratings exist, nothing to do")
        return
    months = _rate_months(district, units, first_month, now)
    appeals = _appeals(rng, units, months[:-2], now)
    stdout.write(
        f"governance: {patrols}, {GridRating.objects.count()} grid ratings "
        f"over {len(months)} months, {appeals} appeals decided"
    )


def _month_back(day: dt.date, months: int) -> dt.date:
    month = day.replace(day=1)
    for _ in range(months):
        month = previous_month(month)
    return month


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time(hour, minute)),
        timezone.get_default_timezone(),
    )


# --- 日巡查 ----------------------------------------------------------------------


def _patrols(rng, district, units, first_month, now, *, small) -> int:
    """Each grid's patrols of the year: a grid keeps its own diligence (how
    often its worker goes out), so the patrol indicator differs between grids.
    Recorded by the grid's phone account where it has one, else by its
    community's staff. Returns how many were recorded (None: some existed)."""
    if Patrol.objects.exists():
        return None
    grids = list(
        Region.objects.in_subtree(district)
        .filter(level=RegionLevel.GRID, is_active=True)
        .order_by("tree_id", "lft")
    )
    workers = {}
    for user in (
        get_user_model()
        .objects.filter(role=UserRole.GRID_WORKER, is_active=True, region__in=grids)
        .order_by("pk")
    ):
        workers.setdefault(user.region_id, user)
    households = _households_by_grid(grids)
    calendar = WorkCalendar()
    days, day = [], first_month
    while day < timezone.localdate(now):
        if calendar.day(day)[0]:
            days.append(day)
        day += dt.timedelta(days=1)
    # A patrol day in every few working days: the full demo records about a
    # quarter of the working days per grid, the small one a tenth.
    share = 0.1 if small else 0.25
    count = 0
    with transaction.atomic():
        for grid in grids:
            actor = workers.get(grid.pk) or units[grid.parent_id]
            diligence = rng.uniform(0.3, 1.0) * share
            for day in days:
                if rng.random() >= diligence:
                    continue
                kind = rng.choices(
                    (PatrolKind.PATROL, PatrolKind.VISIT, PatrolKind.DIARY),
                    weights=(6, 3, 1),
                )[0]
                household = None
                if kind == PatrolKind.VISIT:
                    if not households.get(grid.pk):
                        kind = PatrolKind.PATROL
                    else:
                        household = rng.choice(households[grid.pk])
                at = _at(day, rng.randint(9, 16), rng.randint(0, 59))
                with time_machine.travel(at + dt.timedelta(minutes=5), tick=False):
                    patrol_record(
                        actor=actor,
                        region=grid,
                        kind=kind,
                        notes=rng.choice(PATROL_NOTES[kind]),
                        occurred_at=at,
                        household=household,
                    )
                count += 1
    return count


def _households_by_grid(grids, per_grid: int = 30) -> dict[int, list[Household]]:
    """A few households of each grid (on the grid or one of its buildings) to
    visit: two queries."""
    grid_ids = {grid.pk for grid in grids}
    chosen = {}
    for pk, region_id, parent_id in (
        Household.objects.filter(
            Q(region_id__in=grid_ids) | Q(region__parent_id__in=grid_ids)
        )
        .order_by("pk")
        .values_list("pk", "region_id", "region__parent_id")
    ):
        grid_id = region_id if region_id in grid_ids else parent_id
        ids = chosen.setdefault(grid_id, [])
        if len(ids) < per_grid:
            ids.append(pk)
    wanted = {pk: grid_id for grid_id, ids in chosen.items() for pk in ids}
    households = {}
    for household in (
        Household.objects.filter(pk__in=list(wanted))
        .select_related("region")
        .order_by("pk")
    ):
        households.setdefault(wanted[household.pk], []).append(household)
    return households


# --- 月评比 ----------------------------------------------------------------------


def _rate_months(district, units, first_month, now) -> list[dt.date]:
    """Rate every month from ``first_month`` on at its job time (the 1st of the
    next month, 02:00) and publish it on the 3rd by each street's staff; the
    running month is rated now and stays a draft."""
    streets = list(
        Region.objects.in_subtree(district)
        .filter(level=RegionLevel.STREET)
        .order_by("tree_id", "lft")
    )
    months, month = [], first_month
    current = timezone.localdate(now).replace(day=1)
    while month < current:
        run_at = _at(next_month(month), 2)
        with time_machine.travel(run_at, tick=False):
            rate_grids(month=month)
        publish_at = _at(next_month(month) + dt.timedelta(days=2), 10)
        if publish_at <= now:
            for street in streets:
                with time_machine.travel(publish_at, tick=False):
                    ratings_publish(actor=units[street.pk], street=street, month=month)
        months.append(month)
        month = next_month(month)
    with time_machine.travel(now, tick=False):
        rate_grids(month=current)
    return months


def _appeals(rng, units, months, now) -> int:
    """申诉: a few class-C grids' communities appeal, on the 5th after the
    month; the street decides on the 8th (the first half upheld: C → B)."""
    candidates = list(
        GridRating.objects.filter(
            month__in=months,
            state=RatingState.PUBLISHED,
            rating_class=RatingClass.C,
        )
        .select_related("grid")
        .order_by("month", "grid_id")
    )
    rng.shuffle(candidates)
    chosen = sorted(candidates[:APPEALS], key=lambda r: (r.month, r.grid_id))
    decided = 0
    for index, rating in enumerate(chosen):
        filed_at = _at(next_month(rating.month) + dt.timedelta(days=4), 10)
        decided_at = _at(next_month(rating.month) + dt.timedelta(days=7), 15)
        if decided_at > now:
            continue
        with time_machine.travel(filed_at, tick=False):
            appeal = rating_appeal_file(
                actor=units[rating.grid.parent_id],
                rating_id=rating.pk,
                reason=APPEAL_REASON,
            )
        upheld = index < len(chosen) / 2
        with time_machine.travel(decided_at, tick=False):
            rating_appeal_decide(
                actor=units[rating.street_id],
                appeal_id=appeal.pk,
                upheld=upheld,
                new_class=RatingClass.B if upheld else "",
                note=UPHELD_NOTE if upheld else REJECTED_NOTE,
            )
        decided += 1
    return decided
