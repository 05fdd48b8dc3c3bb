"""Factories of the grids app. Regions are built through the tree manager so the
MPTT columns are right; codes are left empty unless a test gives them."""

import datetime as dt
import itertools

import factory
from django.utils import timezone

from grids.choices import PatrolKind, RegionLevel, UserRole, WorkerRole
from grids.models import (
    GridAssignment,
    GridWorker,
    Household,
    Patrol,
    Region,
    Resident,
    ResidentTag,
    User,
)
from grids.validators import build_id_number

_id_sequence = itertools.count(1)


def next_id_number() -> str:
    """A valid ID-card number never handed out before in this test run."""
    return _unique_id(next(_id_sequence))


def _unique_id(n: int) -> str:
    # Birth date walks forward by one day per 1000 numbers, so numbers never repeat.
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=n // 1000)
    return build_id_number(f"{110101 + (n // 3_650_000) % 800:06d}", birth, n % 1000)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    name = factory.Sequence(lambda n: f"区域{n}")
    level = RegionLevel.DISTRICT
    parent = None
    code = None

    class Params:
        street = factory.Trait(level=RegionLevel.STREET)
        community = factory.Trait(level=RegionLevel.COMMUNITY)
        grid = factory.Trait(level=RegionLevel.GRID)
        building = factory.Trait(level=RegionLevel.BUILDING)


def make_tree(
    *, communities: int = 2, grids_per_community: int = 2, name: str = "测试区"
):
    """district → street → communities → grids; returns a dict of the nodes."""
    district = RegionFactory(name=name, level=RegionLevel.DISTRICT)
    street = RegionFactory(
        name=f"{name}街道", level=RegionLevel.STREET, parent=district
    )
    tree = {"district": district, "street": street, "communities": [], "grids": []}
    for c in range(communities):
        community = RegionFactory(
            name=f"{name}社区{c + 1}", level=RegionLevel.COMMUNITY, parent=street
        )
        tree["communities"].append(community)
        for g in range(grids_per_community):
            tree["grids"].append(
                RegionFactory(
                    name=f"{community.name}第{g + 1}网格",
                    level=RegionLevel.GRID,
                    parent=community,
                )
            )
    for node in [district, street, *tree["communities"], *tree["grids"]]:
        node.refresh_from_db()
    return tree


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    last_name = "王"
    first_name = factory.Sequence(lambda n: f"用户{n}")
    role = UserRole.STREET_STAFF
    region = factory.SubFactory(RegionFactory)
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pass-for-tests")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class GridWorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GridWorker

    name = factory.Sequence(lambda n: f"网格员{n}")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    is_party_member = False


class GridAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GridAssignment

    worker = factory.SubFactory(GridWorkerFactory)
    grid = factory.SubFactory(RegionFactory, level=RegionLevel.GRID)
    role = WorkerRole.FULL_TIME
    started_on = factory.LazyFunction(
        lambda: timezone.localdate() - dt.timedelta(days=365)
    )
    ended_on = None


class ResidentTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResidentTag
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"tag-{n}")
    name = factory.Sequence(lambda n: f"标签{n}")
    visible_to_roles = factory.LazyFunction(list)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    region = factory.SubFactory(RegionFactory, level=RegionLevel.GRID)
    address = factory.Sequence(lambda n: f"幸福路{n}号")


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"居民{n}")
    id_number = factory.LazyFunction(next_id_number)
    gender = factory.LazyAttribute(
        lambda o: "male" if int(o.id_number[16]) % 2 else "female"
    )
    birth_date = factory.LazyAttribute(
        lambda o: dt.date(
            int(o.id_number[6:10]), int(o.id_number[10:12]), int(o.id_number[12:14])
        )
    )
    phone = factory.Sequence(lambda n: f"138{n:08d}")


class PatrolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patrol

    worker = factory.SubFactory(UserFactory, role=UserRole.GRID_WORKER)
    region = factory.SubFactory(RegionFactory, level=RegionLevel.GRID)
    kind = PatrolKind.PATROL
    occurred_at = factory.LazyFunction(timezone.now)
    notes = "巡查无异常"
