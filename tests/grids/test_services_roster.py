import datetime as dt

import pytest

from grids import selectors, services
from grids.choices import WorkerRole
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from grids.models import GridAssignment
from tests.grids.factories import GridAssignmentFactory, GridWorkerFactory


def test_roster_keeps_history_when_a_worker_is_replaced(tree, street_staff):
    grid = tree["grids"][0]
    first = services.grid_worker_upsert(
        actor=street_staff, name="刘洋", phone="13900000001"
    )
    second = services.grid_worker_upsert(
        actor=street_staff, name="陈静", phone="13900000002"
    )
    stint = services.assignment_start(
        actor=street_staff,
        worker=first,
        grid=grid,
        role=WorkerRole.FULL_TIME,
        started_on=dt.date(2024, 1, 1),
    )
    services.assignment_end(
        actor=street_staff, assignment_id=stint.pk, ended_on=dt.date(2025, 6, 30)
    )
    services.assignment_start(
        actor=street_staff,
        worker=second,
        grid=grid,
        role=WorkerRole.FULL_TIME,
        started_on=dt.date(2025, 7, 1),
    )

    assert GridAssignment.objects.filter(grid=grid).count() == 2
    assert list(
        GridAssignment.objects.current(dt.date(2025, 1, 1))
        .filter(grid=grid)
        .values_list("worker__name", flat=True)
    ) == ["刘洋"]
    assert list(
        GridAssignment.objects.current(dt.date(2025, 8, 1))
        .filter(grid=grid)
        .values_list("worker__name", flat=True)
    ) == ["陈静"]


def test_one_person_may_serve_several_grids(tree, street_staff):
    worker = services.grid_worker_upsert(
        actor=street_staff, name="刘洋", phone="13900000001"
    )
    for grid in tree["grids"][:2]:
        services.assignment_start(
            actor=street_staff, worker=worker, grid=grid, role=WorkerRole.PART_TIME
        )
    assert worker.assignments.current().count() == 2


def test_same_open_stint_twice_is_refused(tree, street_staff):
    worker = GridWorkerFactory(home_region=tree["street"])
    grid = tree["grids"][0]
    services.assignment_start(
        actor=street_staff, worker=worker, grid=grid, role=WorkerRole.HEAD
    )
    with pytest.raises(Conflict):
        services.assignment_start(
            actor=street_staff, worker=worker, grid=grid, role=WorkerRole.HEAD
        )


def test_end_before_start_and_double_end_are_refused(tree, street_staff):
    stint = GridAssignmentFactory(grid=tree["grids"][0], started_on=dt.date(2025, 1, 1))
    with pytest.raises(DomainError):
        services.assignment_end(
            actor=street_staff, assignment_id=stint.pk, ended_on=dt.date(2024, 1, 1)
        )
    services.assignment_end(
        actor=street_staff, assignment_id=stint.pk, ended_on=dt.date(2025, 2, 1)
    )
    with pytest.raises(Conflict):
        services.assignment_end(
            actor=street_staff, assignment_id=stint.pk, ended_on=dt.date(2025, 3, 1)
        )


def test_worker_cannot_serve_a_community_node(tree, street_staff):
    with pytest.raises(DomainError):
        services.assignment_start(
            actor=street_staff,
            worker=GridWorkerFactory(home_region=tree["street"]),
            grid=tree["communities"][0],
            role=WorkerRole.FULL_TIME,
        )


def test_roster_outside_scope_and_by_wrong_role_is_refused(
    tree, other_tree, community_staff, supervisor
):
    with pytest.raises(OutOfScope):
        services.assignment_start(
            actor=community_staff,
            worker=GridWorkerFactory(),
            grid=other_tree["grids"][0],
            role=WorkerRole.FULL_TIME,
        )
    with pytest.raises(NotAllowed):
        services.assignment_start(
            actor=supervisor,
            worker=GridWorkerFactory(),
            grid=tree["grids"][0],
            role=WorkerRole.FULL_TIME,
        )


def test_grids_without_full_time_worker_are_flagged(tree, street_staff):
    covered, *uncovered = tree["grids"]
    GridAssignmentFactory(grid=covered, role=WorkerRole.FULL_TIME)
    GridAssignmentFactory(grid=uncovered[0], role=WorkerRole.PART_TIME)
    GridAssignmentFactory(
        grid=uncovered[1],
        role=WorkerRole.FULL_TIME,
        started_on=dt.date(2020, 1, 1),
        ended_on=dt.date(2021, 1, 1),
    )
    flagged = set(selectors.grids_without_full_time_worker(actor=street_staff))
    assert flagged == set(uncovered)


def test_subtree_worker_figures(tree):
    grid_a, grid_b = tree["grids"][:2]
    GridAssignmentFactory(grid=grid_a, role=WorkerRole.FULL_TIME)
    GridAssignmentFactory(grid=grid_b, role=WorkerRole.PART_TIME)
    GridAssignmentFactory(
        grid=grid_a, role=WorkerRole.HEAD, worker__is_party_member=True
    )
    GridAssignmentFactory(
        grid=grid_b, role=WorkerRole.HEAD, worker__is_party_member=False
    )
    figures = selectors.subtree_worker_figures(region=tree["street"])
    assert figures["full_time_share"] == 0.5
    assert figures["party_head_share"] == 0.5
