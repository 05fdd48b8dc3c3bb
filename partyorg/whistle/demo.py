"""Demo whistles (吹哨报到) for ``seed_demo``: run after the tickets demo (which
writes the departments), listed as ``partyorg.whistle`` in its DEMO_APPS. Every
whistle, arrival and absence goes through the services with the clock moved
to the moment it happened."""

import datetime as dt

import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from grids.choices import RegionLevel, UserRole
from grids.models import Region
from tickets.models import Department

from ..models import PartyMember
from .models import Whistle
from .services import whistle_blow, whistle_call_arrive, whistle_calls_mark_absent

MATTERS = (
    ("下水道堵塞，污水外溢", "3号楼北侧"),
    ("小区道路破损，需硬化", "小区东门"),
    ("占道经营，影响通行", "菜市场路口"),
    ("楼道堆物，消防隐患", "5号楼1单元"),
    ("路灯损坏，夜间无照明", "健身广场"),
)
# Whistles per community and how many days ago each was blown; the last one is
# still running (its summonses are pending).
DAYS_AGO = (45, 25, 9, 0)


def seed(*, stdout, rng, small: bool = False) -> None:
    if Whistle.objects.exists():
        stdout.write("partyorg.whistle: demo whistles exist, nothing to do")
        return
    workers = {}
    for user in (
        get_user_model()
        .objects.filter(
            role=UserRole.GRID_WORKER,
            is_active=True,
            region__level=RegionLevel.GRID,
        )
        .select_related("region")
        .order_by("pk")
    ):
        workers.setdefault(user.region.parent_id, []).append(user)
    if not workers or not Department.objects.active().exists():
        stdout.write("partyorg.whistle: no grid workers or departments, nothing to do")
        return
    now = timezone.now()
    for community in Region.objects.filter(
        level=RegionLevel.COMMUNITY, pk__in=list(workers)
    ).order_by("tree_id", "lft"):
        members = list(
            PartyMember.objects.filter(
                is_active=True,
                is_in_service=True,
                registrations__community=community,
                registrations__is_active=True,
            ).order_by("pk")
        )
        for n, days_ago in enumerate(DAYS_AGO):
            worker = rng.choice(workers[community.pk])
            departments = list(Department.objects.active().serving(worker.region))
            title, place = MATTERS[(community.pk + n) % len(MATTERS)]
            blown_at = now - (
                dt.timedelta(days=days_ago, hours=rng.uniform(0.5, 6))
                if days_ago
                else dt.timedelta(minutes=10)
            )
            with time_machine.travel(blown_at, tick=False):
                whistle = whistle_blow(
                    actor=worker,
                    region=worker.region,
                    title=title,
                    meeting_point=place,
                    report_within_minutes=30,
                    departments=rng.sample(departments, min(2, len(departments))),
                    members=rng.sample(members, min(1, len(members))),
                )
            if days_ago == 0:
                continue
            for call in whistle.calls.all():
                roll = rng.random()
                if roll < 0.15:
                    continue  # never came: marked absent below
                minutes = rng.uniform(5, 28) if roll < 0.75 else rng.uniform(35, 80)
                with time_machine.travel(
                    blown_at + dt.timedelta(minutes=minutes), tick=False
                ):
                    whistle_call_arrive(actor=worker, call_id=call.pk)
    marked = whistle_calls_mark_absent(now=now)
    stdout.write(
        f"partyorg.whistle: {Whistle.objects.count()} whistles, {marked} absences"
    )
