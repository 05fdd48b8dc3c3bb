"""吹哨报到: blowing (allowed/denied), arrivals (on time, late, twice, after
absence), the absence job (run twice), the counts per department, and scope."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from grids.choices import UserRole
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from partyorg.whistle import selectors
from partyorg.whistle.choices import CallStatus
from partyorg.whistle.models import WhistleCall
from partyorg.whistle.services import (
    whistle_blow,
    whistle_call_arrive,
    whistle_calls_mark_absent,
)
from tests.grids.factories import UserFactory
from tests.partyorg.factories import RegistrationFactory
from tests.tickets.factories import DepartmentFactory

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _blow(actor, region, *, departments=(), members=(), minutes=30, **kwargs):
    return whistle_blow(
        actor=actor,
        region=region,
        title="井盖缺失",
        meeting_point="3号楼东门",
        report_within_minutes=minutes,
        departments=departments,
        members=members,
        **kwargs,
    )


@pytest.fixture
def departments(tree):
    return [
        DepartmentFactory(name="城管", region=tree["street"]),
        DepartmentFactory(name="住建", region=None),
    ]


# --- Blowing ---------------------------------------------------------------------


def test_grid_worker_blows_a_whistle_to_departments_and_a_registered_member(
    tree, grid_worker, departments
):
    registration = RegistrationFactory(community=tree["communities"][0])
    whistle = _blow(
        grid_worker,
        tree["grids"][0],
        departments=departments,
        members=[registration.member],
    )
    assert whistle.community == tree["communities"][0]
    assert whistle.report_by - whistle.blown_at == dt.timedelta(minutes=30)
    statuses = set(whistle.calls.values_list("status", flat=True))
    assert whistle.calls.count() == 3 and statuses == {CallStatus.PENDING}


def test_supervisor_may_not_blow(tree, supervisor, departments):
    with pytest.raises(NotAllowed):
        _blow(supervisor, tree["grids"][0], departments=departments)


def test_a_grid_worker_cannot_blow_in_another_grid(tree, grid_worker, departments):
    with pytest.raises(OutOfScope):
        _blow(grid_worker, tree["grids"][1], departments=departments)


def test_blowing_needs_someone_a_sane_time_and_serving_departments(
    tree, other_tree, grid_worker, departments
):
    grid = tree["grids"][0]
    with pytest.raises(DomainError) as nobody:
        _blow(grid_worker, grid)
    assert nobody.value.code == "no_one_called"
    for minutes in (0, 5, "x", None, 10**9):
        with pytest.raises(DomainError) as bad_time:
            _blow(grid_worker, grid, departments=departments, minutes=minutes)
        assert bad_time.value.code == "bad_report_time"
    elsewhere = DepartmentFactory(name="外区城管", region=other_tree["street"])
    with pytest.raises(DomainError) as not_serving:
        _blow(grid_worker, grid, departments=[departments[0], elsewhere])
    assert not_serving.value.code == "department_not_serving"
    assert not WhistleCall.objects.exists()


def test_only_members_registered_at_the_community_may_be_summoned(tree, grid_worker):
    elsewhere = RegistrationFactory(community=tree["communities"][1])
    with pytest.raises(DomainError) as refused:
        _blow(grid_worker, tree["grids"][0], members=[elsewhere.member])
    assert refused.value.code == "member_not_registered"


def test_duplicated_departments_are_summoned_once(tree, grid_worker, departments):
    whistle = _blow(
        grid_worker, tree["grids"][0], departments=[*departments, departments[0]]
    )
    assert whistle.calls.count() == 2


# --- Arrivals and absences -------------------------------------------------------


def test_on_time_late_and_absent(tree, grid_worker, departments):
    with time_machine.travel(T0, tick=False):
        whistle = _blow(grid_worker, tree["grids"][0], departments=departments)
    on_time, late = whistle.calls.order_by("id")
    with time_machine.travel(T0 + dt.timedelta(minutes=30), tick=False):
        assert whistle_call_arrive(actor=grid_worker, call_id=on_time.pk).status == (
            CallStatus.ON_TIME
        )
    with time_machine.travel(T0 + dt.timedelta(minutes=31), tick=False):
        assert whistle_call_arrive(actor=grid_worker, call_id=late.pk).status == (
            CallStatus.LATE
        )


def test_a_second_arrival_is_refused(tree, grid_worker, departments):
    whistle = _blow(grid_worker, tree["grids"][0], departments=departments[:1])
    call = whistle.calls.get()
    whistle_call_arrive(actor=grid_worker, call_id=call.pk)
    with pytest.raises(Conflict) as again:
        whistle_call_arrive(actor=grid_worker, call_id=call.pk)
    assert again.value.code == "already_arrived"


def test_absence_job_marks_only_after_the_grace_and_runs_twice(
    tree, grid_worker, departments, settings
):
    settings.PARTYORG_WHISTLE_ABSENT_GRACE_MINUTES = 60
    with time_machine.travel(T0, tick=False):
        whistle = _blow(grid_worker, tree["grids"][0], departments=departments)
    first, second = whistle.calls.order_by("id")
    # Report by 09:30; absent after 10:30.
    assert whistle_calls_mark_absent(now=T0 + dt.timedelta(minutes=90)) == 0
    with time_machine.travel(T0 + dt.timedelta(minutes=80), tick=False):
        whistle_call_arrive(actor=grid_worker, call_id=first.pk)
    later = T0 + dt.timedelta(minutes=91)
    assert whistle_calls_mark_absent(now=later) == 1
    assert whistle_calls_mark_absent(now=later) == 0
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (CallStatus.LATE, CallStatus.ABSENT)
    with pytest.raises(Conflict) as after_absence:
        whistle_call_arrive(actor=grid_worker, call_id=second.pk)
    assert after_absence.value.code == "marked_absent"


def test_arrival_rights_and_scope(tree, grid_worker, supervisor, departments):
    registration = RegistrationFactory(community=tree["communities"][0])
    member = registration.member
    whistle = _blow(
        grid_worker, tree["grids"][0], departments=departments[:1], members=[member]
    )
    department_call = whistle.calls.get(department__isnull=False)
    member_call = whistle.calls.get(member=member)
    with pytest.raises(NotAllowed):
        whistle_call_arrive(actor=supervisor, call_id=department_call.pk)
    other_worker = UserFactory(role=UserRole.GRID_WORKER, region=tree["grids"][2])
    with pytest.raises(OutOfScope):
        whistle_call_arrive(actor=other_worker, call_id=department_call.pk)
    with pytest.raises(OutOfScope):
        whistle_call_arrive(actor=grid_worker, call_id=10**9)
    # The member's own account (scoped to the community) checks itself in, but
    # not the department.
    account = UserFactory(role="", region=tree["communities"][0], is_staff=False)
    member.user = account
    member.save(update_fields=["user"])
    with pytest.raises(NotAllowed):
        whistle_call_arrive(actor=account, call_id=department_call.pk)
    assert whistle_call_arrive(actor=account, call_id=member_call.pk).status in (
        CallStatus.ON_TIME,
    )


# --- Counts ------------------------------------------------------------------------


def test_counts_per_department_per_month_on_hand_built_data(
    tree, grid_worker, community_staff, departments
):
    chengguan, zhujian = departments
    grid = tree["grids"][0]
    # March: two whistles; 城管 on time then absent, 住建 late then on time.
    with time_machine.travel(T0, tick=False):
        w1 = _blow(grid_worker, grid, departments=departments)
    with time_machine.travel(T0 + dt.timedelta(minutes=10), tick=False):
        whistle_call_arrive(
            actor=grid_worker, call_id=w1.calls.get(department=chengguan).pk
        )
    with time_machine.travel(T0 + dt.timedelta(minutes=45), tick=False):
        whistle_call_arrive(
            actor=grid_worker, call_id=w1.calls.get(department=zhujian).pk
        )
    march_2 = T0 + dt.timedelta(days=10)
    with time_machine.travel(march_2, tick=False):
        w2 = _blow(grid_worker, grid, departments=departments)
    with time_machine.travel(march_2 + dt.timedelta(minutes=5), tick=False):
        whistle_call_arrive(
            actor=grid_worker, call_id=w2.calls.get(department=zhujian).pk
        )
    whistle_calls_mark_absent(now=march_2 + dt.timedelta(hours=3))
    # April: one whistle to 城管 still pending.
    with time_machine.travel(T0 + dt.timedelta(days=31), tick=False):
        _blow(grid_worker, grid, departments=[chengguan])

    rows = selectors.department_attendance_by_month(actor=community_staff)
    got = {
        (r["department__name"], timezone.localtime(r["month"]).month): (
            r["called"],
            r["on_time"],
            r["late"],
            r["absent"],
            r["pending"],
        )
        for r in rows
    }
    assert got == {
        ("城管", 3): (2, 1, 0, 1, 0),
        ("住建", 3): (2, 1, 1, 0, 0),
        ("城管", 4): (1, 0, 0, 0, 1),
    }
    assessment = {
        r["department__name"]: r
        for r in selectors.department_assessment(actor=community_staff)
    }
    assert assessment["城管"]["decided"] == 2
    assert assessment["城管"]["arrival_rate"] == 50.0
    assert assessment["城管"]["on_time_rate"] == 50.0
    assert assessment["住建"]["arrival_rate"] == 100.0
    assert assessment["住建"]["on_time_rate"] == 50.0


def test_another_communitys_whistles_are_out_of_reach(tree, departments):
    worker_b = UserFactory(role=UserRole.GRID_WORKER, region=tree["grids"][2])
    whistle_b = _blow(worker_b, tree["grids"][2], departments=departments)
    staff_a = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0])
    assert selectors.whistle_detail(actor=staff_a, whistle_id=whistle_b.pk) is None
    assert selectors.department_attendance_by_month(actor=staff_a) == []
    assert len(selectors.department_attendance_by_month(actor=worker_b)) == 2


def test_demo_seeds_whistles_through_the_services_once(tree, grid_worker):
    import io
    import random

    from partyorg.whistle import demo

    DepartmentFactory(name="城管", region=None)
    RegistrationFactory(community=tree["communities"][0])
    out = io.StringIO()
    demo.seed(stdout=out, rng=random.Random(1))
    whistles = selectors.whistle_list(actor=grid_worker)
    assert whistles.count() == len(demo.DAYS_AGO)
    assert WhistleCall.objects.filter(status=CallStatus.PENDING).count() == 2
    assert not WhistleCall.objects.filter(
        status=CallStatus.PENDING, whistle__report_by__lt=timezone.now()
    ).exists()
    demo.seed(stdout=out, rng=random.Random(1))
    assert whistles.count() == len(demo.DAYS_AGO)
