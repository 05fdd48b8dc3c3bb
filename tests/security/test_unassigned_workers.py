"""Finding 3 of issue 9: a grid worker with no stint yet was readable and
writable by every community, full phone included, and the phone-owner message
told anyone that a number belonged to a worker elsewhere."""

import pytest
from django.urls import reverse

from grids import services
from grids.choices import UserRole, WorkerRole
from grids.errors import DomainError, OutOfScope
from grids.models import GridWorker
from grids.services.roster import PHONE_UNUSABLE
from tests.grids.factories import UserFactory

pytestmark = pytest.mark.django_db

PHONE = "13700001111"


@pytest.fixture
def community_a(tree):
    return UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0])


@pytest.fixture
def community_b(tree):
    return UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])


@pytest.fixture
def unassigned(community_a):
    return services.grid_worker_upsert(
        actor=community_a, name="新来的网格员", phone=PHONE
    )


def test_a_new_worker_belongs_to_the_creators_area(unassigned, tree):
    assert unassigned.home_region == tree["communities"][0]
    assert not unassigned.assignments.exists()


def test_another_community_cannot_list_or_open_an_unassigned_worker(
    client, unassigned, community_a, community_b, street_staff
):
    assert unassigned in GridWorker.objects.visible_to(community_a)
    assert unassigned in GridWorker.objects.visible_to(street_staff)
    assert unassigned not in GridWorker.objects.visible_to(community_b)
    client.force_login(community_b)
    listing = client.get(reverse("admin:grids_gridworker_changelist"))
    assert listing.status_code == 200
    assert unassigned.name not in listing.content.decode()
    opened = client.get(reverse("admin:grids_gridworker_change", args=[unassigned.pk]))
    assert opened.status_code in (302, 404)
    assert PHONE not in opened.content.decode()
    found = client.get(
        reverse("admin:autocomplete"),
        {
            "term": "新来",
            "app_label": "grids",
            "model_name": "gridassignment",
            "field_name": "worker",
        },
    )
    assert unassigned.name not in found.content.decode()
    client.force_login(community_a)
    listing = client.get(reverse("admin:grids_gridworker_changelist"))
    assert unassigned.name in listing.content.decode()


def test_another_community_cannot_change_an_unassigned_worker(
    client, unassigned, community_b
):
    with pytest.raises(OutOfScope):
        services.grid_worker_update(
            actor=community_b,
            worker_id=unassigned.pk,
            name="改名",
            phone=PHONE,
            is_party_member=True,
        )
    client.force_login(community_b)
    client.post(
        reverse("admin:grids_gridworker_change", args=[unassigned.pk]),
        {"name": "改名", "phone": PHONE, "is_party_member": "on"},
    )
    unassigned.refresh_from_db()
    assert unassigned.name == "新来的网格员"
    assert not unassigned.is_party_member


def _refusal(**kwargs) -> str:
    with pytest.raises(DomainError) as refused:
        services.grid_worker_upsert(**kwargs)
    return refused.value


def test_another_community_cannot_upsert_and_learns_nothing(unassigned, community_b):
    outside_owner = _refusal(actor=community_b, name="抢注", phone=PHONE)
    malformed = _refusal(actor=community_b, name="抢注", phone="12345")
    assert outside_owner.message == malformed.message == str(PHONE_UNUSABLE)
    assert outside_owner.code == malformed.code
    unassigned.refresh_from_db()
    assert unassigned.name == "新来的网格员"


def test_the_owner_community_still_updates_its_worker_by_phone(unassigned, community_a):
    again = services.grid_worker_upsert(
        actor=community_a, name="新来的网格员（改）", phone=PHONE
    )
    assert again.pk == unassigned.pk
    assert again.name == "新来的网格员（改）"


def test_changing_a_phone_to_an_outside_workers_says_the_same_as_a_bad_number(
    unassigned, community_b
):
    mine = services.grid_worker_upsert(
        actor=community_b, name="本社区", phone="13700002222"
    )
    messages = []
    for phone in (PHONE, "12345"):
        with pytest.raises(DomainError) as refused:
            services.grid_worker_update(
                actor=community_b,
                worker_id=mine.pk,
                name="本社区",
                phone=phone,
                is_party_member=False,
            )
        messages.append(refused.value.message)
    assert messages[0] == messages[1] == str(PHONE_UNUSABLE)


def test_admin_add_with_an_outside_workers_phone_names_nobody(
    client, unassigned, community_b
):
    client.force_login(community_b)
    outside, malformed = (
        client.post(
            reverse("admin:grids_gridworker_add"),
            {"name": "抢注", "phone": phone},
        )
        for phone in (PHONE, "12345")
    )
    assert outside.status_code == malformed.status_code == 200
    errors = [r.context["adminform"].form.errors["phone"] for r in (outside, malformed)]
    assert errors[0] == errors[1]
    assert unassigned.name not in outside.content.decode()
    assert GridWorker.objects.filter(phone=PHONE).get().name == "新来的网格员"


def test_another_community_cannot_put_an_unassigned_worker_on_its_grid(
    unassigned, community_b, tree
):
    with pytest.raises(OutOfScope):
        services.assignment_start(
            actor=community_b,
            worker=unassigned,
            grid=tree["grids"][2],
            role=WorkerRole.FULL_TIME,
        )
    assert not unassigned.assignments.exists()


def test_the_home_community_assigns_it_and_then_only_it_sees_it(
    unassigned, community_a, community_b, tree
):
    services.assignment_start(
        actor=community_a,
        worker=unassigned,
        grid=tree["grids"][0],
        role=WorkerRole.FULL_TIME,
    )
    assert unassigned in GridWorker.objects.visible_to(community_a)
    assert unassigned not in GridWorker.objects.visible_to(community_b)


def test_migration_backfills_the_home_area_from_the_last_stint(tree):
    import importlib

    from django.apps import apps

    from tests.grids.factories import GridAssignmentFactory, GridWorkerFactory

    migration = importlib.import_module("grids.migrations.0005_gridworker_home_region")
    served = GridAssignmentFactory(grid=tree["grids"][1]).worker
    account = UserFactory(role=UserRole.GRID_WORKER, region=tree["grids"][3])
    linked = GridWorkerFactory(user=account)
    nothing = GridWorkerFactory()
    migration.backfill_home_region(apps, None)
    for worker in (served, linked, nothing):
        worker.refresh_from_db()
    assert served.home_region == tree["grids"][1]
    assert linked.home_region == tree["grids"][3]
    assert nothing.home_region is None
