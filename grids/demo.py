"""Demo data of the grids app: a realistic district for `manage.py seed_demo`.

One district (370102) with 2 streets, 8 communities, 60 grids of ~300
households / ~1000 people, 5 buildings per grid, the roster (≈83% full-time
workers, ≈90% of grid heads party members, as seeds 000 and 003 report) and the
demo accounts. Regions go through the services; the bulk of households and
residents is inserted with bulk_create (their per-household counts recomputed).
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction

from . import services
from .choices import RegionLevel, ResidenceType, UserRole, WorkerRole
from .models import (
    GridAssignment,
    GridWorker,
    Household,
    Region,
    Resident,
    ResidentTag,
)
from .validators import build_id_number

DEMO_DISTRICT_CODE = "370102"
DEMO_PASSWORD = "gridwork-demo"
DEMO_ACCOUNTS = (
    # username, role, scope (level, index among that level in tree order), name
    ("street", UserRole.STREET_STAFF, (RegionLevel.STREET, 0), ("李", "街道")),
    ("community", UserRole.COMMUNITY_STAFF, (RegionLevel.COMMUNITY, 0), ("张", "社区")),
    ("grid", UserRole.GRID_WORKER, (RegionLevel.GRID, 0), ("王", "网格")),
    ("supervisor", UserRole.SUPERVISOR, (RegionLevel.DISTRICT, 0), ("赵", "领导")),
)

STREETS = {
    "泉城路街道": ["芙蓉", "王府池子", "县西巷", "珍珠泉"],
    "大明湖街道": ["百花洲", "司家码头", "鞭指巷", "曲水亭"],
}
GRIDS_PER_COMMUNITY = (8, 7, 8, 7, 8, 7, 8, 7)  # 60 in all
BUILDINGS_PER_GRID = 5
# Communities (in tree order) whose every roster worker gets a phone account.
# Opening an account hashes its password (~0.4 s each with Django's default
# hasher), so more communities would push seed_demo past a minute.
PHONE_ACCOUNT_COMMUNITIES = 1

TAGS = (
    ("elderly_alone", "独居老人", []),
    ("disabled", "残疾人", []),
    ("serious_illness", "重病患者", ["street_staff", "community_staff", "grid_worker"]),
    ("poor_student", "困难学生", []),
    ("extreme_poverty", "特困人员", []),
    ("left_behind_child", "留守儿童", []),
    ("veteran", "退役军人", []),
)

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬斌宇浩凯健俊帆帅旭宁龙林欢阳建国建华志强海燕春梅淑珍桂兰德明文博子涵梓轩雨萱浩然欣怡"
STREET_NAMES = (
    "泉城路",
    "芙蓉街",
    "县西巷",
    "后宰门街",
    "曲水亭街",
    "明湖路",
    "黑虎泉路",
    "历山路",
)


def _person_name(rng) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _mobile(rng) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def seed(*, stdout, rng, small: bool = False) -> None:
    """``small``: a tenth of the households (for tests)."""
    if Region.objects.filter(code=DEMO_DISTRICT_CODE).exists():
        stdout.write("grids: demo district exists, nothing to do")
        return
    with transaction.atomic():
        admin = _superuser()
        grids, buildings = _regions(admin)
        tags = _tags()
        _households(
            rng, grids, buildings, tags, per_grid=(28, 32) if small else (280, 320)
        )
        _roster(rng, admin, grids)
        _accounts(admin)
        unit_accounts(admin, Region.objects.get(code=DEMO_DISTRICT_CODE))
        _phone_accounts(admin)
    stdout.write(
        f"grids: {Region.objects.count()} regions, {Household.objects.count()} households, "
        f"{Resident.objects.count()} residents, {GridWorker.objects.count()} grid workers"
    )


def _superuser():
    User = get_user_model()
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        admin = User.objects.create_superuser(
            "admin", email="", password=DEMO_PASSWORD, last_name="管理员"
        )
    return admin


def _regions(admin):
    district = services.region_create(
        actor=admin,
        name="历下区",
        level=RegionLevel.DISTRICT,
        code=DEMO_DISTRICT_CODE,
        latitude="36.666",
        longitude="117.076",
    )
    grids, buildings = [], []
    community_index = 0
    for s, (street_name, communities) in enumerate(STREETS.items(), start=1):
        street = services.region_create(
            actor=admin,
            parent=district,
            name=street_name,
            level=RegionLevel.STREET,
            code=f"{DEMO_DISTRICT_CODE}{s:03d}",
        )
        for c, community_name in enumerate(communities, start=1):
            community = services.region_create(
                actor=admin,
                parent=street,
                name=f"{community_name}社区",
                level=RegionLevel.COMMUNITY,
                code=f"{street.code}{c:03d}",
            )
            for g in range(1, GRIDS_PER_COMMUNITY[community_index] + 1):
                grid = services.region_create(
                    actor=admin,
                    parent=community,
                    name=f"{community_name}第{g}网格",
                    level=RegionLevel.GRID,
                    code=f"{community.code}{g:03d}",
                )
                grids.append(grid)
                for b in range(1, BUILDINGS_PER_GRID + 1):
                    buildings.append(
                        services.region_create(
                            actor=admin,
                            parent=grid,
                            name=f"{community_name}{g}网格{b}号楼",
                            level=RegionLevel.BUILDING,
                            code=f"{grid.code}{b:03d}",
                        )
                    )
            community_index += 1
    return grids, buildings


def _tags():
    tags = {}
    for code, name, roles in TAGS:
        tags[code], _ = ResidentTag.objects.get_or_create(
            code=code, defaults={"name": name, "visible_to_roles": roles}
        )
    return tags


def _households(rng, grids, buildings, tags, *, per_grid):
    by_grid = {}
    for building in buildings:
        by_grid.setdefault(building.parent_id, []).append(building)
    households = []
    for grid in grids:
        street_name = rng.choice(STREET_NAMES)
        for n in range(rng.randint(*per_grid)):
            building = by_grid[grid.pk][n % BUILDINGS_PER_GRID]
            unit, floor, door = n // 60 + 1, (n // 5) % 12 + 1, n % 5 + 1
            households.append(
                Household(
                    region=building,
                    address=f"{street_name}{building.name[-4:]}{unit}单元{floor}{door:02d}室",
                    household_number=f"{building.code}{n:04d}",
                )
            )
    Household.objects.bulk_create(households, batch_size=2000)
    households = list(
        Household.objects.filter(region__in=buildings).select_related("region")
    )

    residents, tag_rows = [], []
    used_ids = set()
    Through = Resident.tags.through
    today = dt.date.today()
    for household in households:
        size = rng.choices((1, 2, 3, 4, 5), weights=(8, 22, 32, 24, 14))[0]
        surname = rng.choice(SURNAMES)
        for member in range(size):
            relationship = ("head", "spouse", "child", "child", "parent")[member]
            age = {
                "head": rng.randint(28, 85),
                "spouse": rng.randint(26, 83),
                "child": rng.randint(1, 30),
                "parent": rng.randint(60, 95),
            }[relationship]
            birth = today - dt.timedelta(days=age * 365 + rng.randrange(365))
            while True:
                sequence = rng.randrange(1000)
                id_number = build_id_number(DEMO_DISTRICT_CODE, birth, sequence)
                if id_number not in used_ids:
                    used_ids.add(id_number)
                    break
            name = (
                surname + _person_name(rng)[1:]
                if relationship in ("head", "child")
                else _person_name(rng)
            )
            residents.append(
                Resident(
                    household=household,
                    name=name,
                    id_number=id_number,
                    gender="male" if int(id_number[16]) % 2 else "female",
                    birth_date=birth,
                    phone=_mobile(rng) if age >= 18 else "",
                    relationship=relationship,
                    residence_type=rng.choices(
                        (
                            ResidenceType.REGISTERED,
                            ResidenceType.RESIDENT,
                            ResidenceType.FLOATING,
                        ),
                        weights=(70, 18, 12),
                    )[0],
                )
            )
    Resident.objects.bulk_create(residents, batch_size=5000)
    for resident in Resident.objects.filter(household__in=households).only(
        "pk", "birth_date", "household_id"
    ):
        age = today.year - resident.birth_date.year
        if age >= 70 and rng.random() < 0.15:
            tag_rows.append(
                Through(
                    resident_id=resident.pk, residenttag_id=tags["elderly_alone"].pk
                )
            )
        if rng.random() < 0.02:
            tag_rows.append(
                Through(resident_id=resident.pk, residenttag_id=tags["disabled"].pk)
            )
        if rng.random() < 0.01:
            tag_rows.append(
                Through(
                    resident_id=resident.pk, residenttag_id=tags["serious_illness"].pk
                )
            )
        if 6 <= age <= 18 and rng.random() < 0.03:
            tag_rows.append(
                Through(resident_id=resident.pk, residenttag_id=tags["poor_student"].pk)
            )
    Through.objects.bulk_create(tag_rows, batch_size=5000)

    # bulk_create bypassed the services that keep the per-household count.
    services.household_resident_counts_refresh()
    services.region_counts_refresh()


def _roster(rng, admin, grids):
    started = dt.date.today() - dt.timedelta(days=400)
    workers, assignments = [], []
    used_phones = set()

    def new_worker(is_party_member):
        while True:
            phone = _mobile(rng)
            if phone not in used_phones:
                used_phones.add(phone)
                break
        worker = GridWorker(
            name=_person_name(rng), phone=phone, is_party_member=is_party_member
        )
        workers.append(worker)
        return worker

    plan = []
    for grid in grids:
        plan.append((new_worker(rng.random() < 0.9), grid, WorkerRole.HEAD))
        role = WorkerRole.FULL_TIME if rng.random() < 0.83 else WorkerRole.PART_TIME
        plan.append((new_worker(rng.random() < 0.55), grid, role))
        for _ in range(rng.randint(1, 3)):
            plan.append((new_worker(rng.random() < 0.3), grid, WorkerRole.MICRO))
    GridWorker.objects.bulk_create(workers)
    for worker, grid, role in plan:
        assignments.append(
            GridAssignment(worker=worker, grid=grid, role=role, started_on=started)
        )
    # History: some grids changed their full-time worker last year.
    for _worker, grid, role in plan[1:40:10]:
        former = new_worker(False)
        former.save()
        assignments.append(
            GridAssignment(
                worker=former,
                grid=grid,
                role=role,
                started_on=started - dt.timedelta(days=700),
                ended_on=started - dt.timedelta(days=1),
            )
        )
    GridAssignment.objects.bulk_create(assignments)


def _accounts(admin):
    for username, role, (level, index), (last, first) in DEMO_ACCOUNTS:
        scope = Region.objects.filter(level=level).order_by("tree_id", "lft")[index]
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            user = services.staff_account_create(
                actor=admin,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                region=scope,
                last_name=last,
                first_name=first,
            )
        if role == UserRole.GRID_WORKER:
            assignment = (
                GridAssignment.objects.filter(grid=scope, ended_on__isnull=True)
                .exclude(role=WorkerRole.HEAD)
                .exclude(role=WorkerRole.MICRO)
                .select_related("worker")
                .first()
            )
            if assignment and assignment.worker.user_id is None:
                _link(admin, assignment.worker, user)


def unit_accounts(admin, district) -> dict:
    """Region id → the staff account that speaks for each street and community
    of ``district``: the first active one there, else one opened through the
    account service (``tickets_s<i>`` / ``tickets_c<i>``, the README's names)."""
    User = get_user_model()
    subtree = Region.objects.in_subtree(district).order_by("tree_id", "lft")
    units = [
        *subtree.filter(level=RegionLevel.STREET),
        *subtree.filter(level=RegionLevel.COMMUNITY),
    ]
    accounts = {}
    for user in User.objects.filter(
        region__in=units,
        role__in=[UserRole.STREET_STAFF, UserRole.COMMUNITY_STAFF],
        is_active=True,
    ).order_by("pk"):
        accounts.setdefault(user.region_id, user)
    for i, region in enumerate(units):
        if region.pk in accounts:
            continue
        is_street = region.level == RegionLevel.STREET
        accounts[region.pk] = services.staff_account_create(
            actor=admin,
            username=f"tickets_{'s' if is_street else 'c'}{i}",
            password=DEMO_PASSWORD,
            role=UserRole.STREET_STAFF if is_street else UserRole.COMMUNITY_STAFF,
            region=region,
            last_name=SURNAMES[i % 20],
            first_name="主任" if is_street else "书记",
        )
    return accounts


def _link(admin, worker, user):
    services.grid_worker_upsert(
        actor=admin, name=worker.name, phone=worker.phone, user=user
    )


def _phone_accounts(admin):
    """A phone account for every current roster worker of the first communities
    who has none yet, scoped to the grid they serve (the first, if several)."""
    communities = Region.objects.filter(level=RegionLevel.COMMUNITY).order_by(
        "tree_id", "lft"
    )[:PHONE_ACCOUNT_COMMUNITIES]
    stints = (
        GridAssignment.objects.filter(
            grid__parent__in=list(communities),
            ended_on__isnull=True,
            worker__user__isnull=True,
        )
        .select_related("worker", "grid")
        .order_by("grid__tree_id", "grid__lft", "pk")
    )
    done = set()
    for stint in stints:
        worker = stint.worker
        if worker.pk in done:
            continue
        done.add(worker.pk)
        user = services.staff_account_create(
            actor=admin,
            username=worker.phone,
            password=DEMO_PASSWORD,
            role=UserRole.GRID_WORKER,
            region=stint.grid,
            last_name=worker.name[:1],
            first_name=worker.name[1:],
            phone=worker.phone,
        )
        _link(admin, worker, user)
