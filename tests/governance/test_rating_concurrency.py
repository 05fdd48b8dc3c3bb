"""Two rating runs at once on PostgreSQL (threads with their own connections):
the month's advisory lock queues the second behind the first."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from governance.models import GridRating, RatingRuleSet
from governance.services import ADVISORY_LOCK_CLASS, rate_grids

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's"
    ),
]

NOV = dt.date(2026, 11, 1)


def _run_in_thread(outcomes, barrier=None):
    def run():
        try:
            if barrier is not None:
                barrier.wait()
            outcomes.append(("ok", rate_grids(month=NOV)))
        except Exception as exc:
            outcomes.append(("error", repr(exc)))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_runs_at_once_leave_one_set_of_ratings(tree, other_tree):
    outcomes = []
    barrier = threading.Barrier(2)
    threads = [_run_in_thread(outcomes, barrier) for _ in range(2)]
    for thread in threads:
        thread.join()
    grids = len(tree["grids"]) + len(other_tree["grids"])
    assert outcomes == [("ok", grids), ("ok", grids)]
    assert GridRating.objects.filter(month=NOV).count() == grids
    # Both ran with the one shared rule set the first run created.
    assert RatingRuleSet.objects.count() == 1


def _advisory_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            " AND NOT granted AND classid = %s AND objid = %s",
            [ADVISORY_LOCK_CLASS, NOV.year * 100 + NOV.month],
        )
        return cursor.fetchone()[0]


def test_a_run_waits_for_the_run_holding_the_month(tree):
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)",
                    [ADVISORY_LOCK_CLASS, NOV.year * 100 + NOV.month],
                )
                holding.set()
                release.wait()
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait()
    outcomes = []
    try:
        runner = _run_in_thread(outcomes)
        waited = False
        for _ in range(10_000):
            if _advisory_waiters():
                waited = True
                break
        assert GridRating.objects.count() == 0
    finally:
        release.set()
        holder.join()
    runner.join()
    assert waited
    assert outcomes == [("ok", len(tree["grids"]))]
    assert GridRating.objects.filter(month=NOV).count() == len(tree["grids"])
