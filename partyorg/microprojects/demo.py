"""Demo 民生微实事 for ``seed_demo`` (listed as ``partyorg.microprojects`` in
its DEMO_APPS, after the deliberation demo): in every community one project in
each state — proposed, screened, approved, in progress with milestones and
photos, accepted with the money spent, refused — and, where the community has
a topic with a published outcome, one more raised from it. Every step goes
through the services with the clock moved to its moment; the last project of
each community is accepted this month, so the dashboard's monthly figures show
something. Idempotent: nothing when a project exists."""

import datetime as dt
import io
from decimal import Decimal

import time_machine
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from grids.choices import RegionLevel, UserRole
from grids.demo import unit_accounts
from grids.models import Region

from ..deliberation.choices import PUBLIC_STEPS
from ..deliberation.models import Topic
from . import services
from .choices import ProjectState
from .models import MicroProject

# (title, description, resident who ordered it, budget, spent)
ORDERS = (
    (
        "老旧小区楼道扶手加装",
        "多位老人反映楼道无扶手，上下楼不便",
        "王秀英",
        8000,
        7650,
    ),
    ("健身广场路灯修复", "广场夜间无照明，居民锻炼不安全", "李建国", 5000, 4820),
    ("小区非机动车充电棚", "电动车楼道充电有火灾隐患", "张桂芳", 30000, 28600),
    ("背街小巷路面硬化", "雨天泥泞，老人孩子出行不便", "刘志强", 20000, 19300),
    ("社区长者食堂桌椅更新", "桌椅老化破损", "陈玉兰", 6000, 5700),
    ("垃圾分类亭改造", "投放点异味大、无遮雨", "赵德明", 12000, 11850),
)
# The state each of a community's projects ends in, with how many days ago it
# was ordered; the accepted one at the end is accepted this month.
STORIES = (
    (ProjectState.PROPOSED, 5),
    (ProjectState.SCREENED, 20),
    (ProjectState.APPROVED, 40),
    (ProjectState.IN_PROGRESS, 70),
    (ProjectState.REJECTED, 50),
    (ProjectState.ACCEPTED, 25),
)
MILESTONES = ("材料进场，开始施工", "主体完工，等待验收")


def _photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (60, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile("milestone.png", buffer.getvalue(), "image/png")


def seed(*, stdout, rng, small: bool = False) -> None:
    if MicroProject.objects.exists():
        stdout.write("partyorg.microprojects: demo projects exist, nothing to do")
        return
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    district = Region.objects.filter(level=RegionLevel.DISTRICT).order_by("pk").first()
    if admin is None or district is None:
        stdout.write("partyorg.microprojects: no demo district yet, nothing to do")
        return
    units = unit_accounts(admin, district)
    workers = {}
    for user in (
        get_user_model()
        .objects.filter(
            role=UserRole.GRID_WORKER, is_active=True, region__level=RegionLevel.GRID
        )
        .select_related("region")
        .order_by("pk")
    ):
        workers.setdefault(user.region.parent_id, user)
    published = {}
    for topic in (
        Topic.objects.filter(records__step__in=PUBLIC_STEPS)
        .distinct()
        .order_by("raised_at", "pk")
    ):
        published.setdefault(topic.community_id, topic)
    now = timezone.now()
    communities = Region.objects.in_subtree(district).filter(
        level=RegionLevel.COMMUNITY, is_active=True
    )
    for c, community in enumerate(communities.order_by("tree_id", "lft")):
        staff, street = units.get(community.pk), units.get(community.parent_id)
        if staff is None or street is None:
            continue
        proposer = workers.get(community.pk, staff)
        for n, (state, days_ago) in enumerate(STORIES):
            title, description, resident, budget, spent = ORDERS[(c + n) % len(ORDERS)]
            _story(
                state,
                now - dt.timedelta(days=days_ago, hours=rng.uniform(1, 6)),
                now,
                proposer=proposer,
                staff=staff,
                street=street,
                region=proposer.region if proposer is not staff else community,
                fields={
                    "title": title,
                    "description": description,
                    "proposed_by_name": resident,
                },
                budget=budget,
                spent=spent,
            )
        topic = published.get(community.pk)
        if topic is not None:
            with time_machine.travel(now - dt.timedelta(days=3), tick=False):
                services.micro_project_propose(
                    actor=staff,
                    topic=topic,
                    title=topic.title[:200],
                    description=f"议事协商结果：{topic.title}",
                )
    stdout.write(f"partyorg.microprojects: {MicroProject.objects.count()} projects")


def _story(state, start, now, *, proposer, staff, street, region, fields, **money):
    """Propose at ``start`` and take the steps up to ``state``, a few days
    apart (the acceptance within the running month)."""
    steps = [
        (staff, lambda p: services.micro_project_screen(actor=staff, project_id=p.pk)),
        (
            street,
            lambda p: services.micro_project_approve(
                actor=street, project_id=p.pk, budget=Decimal(money["budget"])
            ),
        ),
        (staff, lambda p: services.micro_project_start(actor=staff, project_id=p.pk)),
    ]
    upto = {
        ProjectState.PROPOSED: 0,
        ProjectState.SCREENED: 1,
        ProjectState.APPROVED: 2,
        ProjectState.IN_PROGRESS: 3,
        ProjectState.ACCEPTED: 3,
        ProjectState.REJECTED: 0,
    }[state]
    with time_machine.travel(start, tick=False):
        project = services.micro_project_propose(
            actor=proposer, region=region, **fields
        )
    moment = start
    for _actor, step in steps[:upto]:
        moment += dt.timedelta(days=3)
        with time_machine.travel(moment, tick=False):
            project = step(project)
    if state == ProjectState.REJECTED:
        with time_machine.travel(moment + dt.timedelta(days=2), tick=False):
            services.micro_project_reject(
                actor=staff,
                project_id=project.pk,
                reason="属于物业维修责任，已转物业办理",
            )
        return
    if state in (ProjectState.IN_PROGRESS, ProjectState.ACCEPTED):
        for note in MILESTONES[: 1 if state == ProjectState.IN_PROGRESS else 2]:
            moment += dt.timedelta(days=2)
            with time_machine.travel(moment, tick=False):
                services.micro_project_milestone_add(
                    actor=staff, project_id=project.pk, note=note, photo=_photo()
                )
    if state == ProjectState.ACCEPTED:
        accepted_at = max(moment + dt.timedelta(days=1), now.replace(day=1, hour=10))
        with time_machine.travel(min(accepted_at, now), tick=False):
            services.micro_project_accept(
                actor=street,
                project_id=project.pk,
                spent=Decimal(money["spent"]),
                result="已完工并通过验收，居民满意",
            )
