"""The monthly A/B/C rating at province scale (issue 12): ``rate_grids(month)``
over 49,000 grids and 2,000,000 tickets, then the five-star appraisal of the
same month (``workers_appraise``). Prints one JSON object: the time, peak RSS
of the run (VmHWM reset before it) and statements of the first run and the
rerun, with each statement's share of the time.

    .venv/bin/python bench/bench_ratings.py        # builds once, then measures

The data, on its own database (``gridwork_bench_ratings``):

- the tree and the 2,000,000 tickets of ``bench_tickets.py`` with
  ``BENCH_DISTRICTS=100`` (100 districts × 10 streets × 7 communities × 7 grids
  = 49,000 grids; one household row a grid, as ``bench_grids.build_tree``
  makes it);
- the rating columns the ticket services write (dispatched_at, accepted_at,
  accepted_on_time, handling_due_at, handled_at, closing_level, rework and
  report-up counts) set by one UPDATE from each ticket's stage and times,
  since ``bench_tickets`` loads tickets without them;
- per grid: a recorded household count and population (``households_count``,
  ``population_count``: what the grid-norm indicators read; the 14.7 M
  household rows are not generated, the rating counts only them), a full-time
  worker with a stint, a patrol on 10 days of the month (490,000 patrols), and
  10 residents' survey answers of the month (490,000 answers).

The measured month is ``BENCH_MONTH`` (default 2026-10-01: a whole month
before ``bench_tickets``' fixed now). The first run replaces the month's
draft ratings (none, or the previous bench run's), the rerun replaces them
again: the idempotent rerun costs the same work.
"""

import datetime as dt
import json
import os
import sys
import time

os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gridwork_bench_ratings"
)
os.environ.setdefault("BENCH_DISTRICTS", "100")
MONTH = dt.date.fromisoformat(os.environ.get("BENCH_MONTH", "2026-10-01"))
PATROL_DAYS = 10
ANSWERS_PER_GRID = 10
MARK = "bench_ratings:v1"


def _marked(cursor) -> bool:
    cursor.execute("SELECT obj_description('governance_surveyanswer'::regclass)")
    (mark,) = cursor.fetchone()
    return mark == f"{MARK}:{MONTH}"


def prepare() -> dict:
    """The rating columns, grid counts, workers, patrols and survey answers,
    once (marked by a comment on the answers' table)."""
    from django.db import connection, transaction

    timings = {}
    with connection.cursor() as cursor:
        if _marked(cursor):
            return timings
    started = time.perf_counter()
    month_start = f"'{MONTH.isoformat()} 00:00+08'::timestamptz"
    with transaction.atomic(), connection.cursor() as cursor:
        # A bulk rewrite of 2,000,000 rows: the secondary indexes are dropped
        # and built again after it (as bench_tickets loads them), not updated
        # row by row in 26 indexes.
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i"
            " WHERE i.tablename = 'tickets_ticket' AND NOT EXISTS ("
            " SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(
            """
            UPDATE tickets_ticket t SET
                dispatched_at = CASE WHEN t.stage IN
                    ('dispatched', 'accepted', 'handled', 'evaluated', 'closed')
                    THEN t.received_at + interval '3 hours' END,
                accepted_at = CASE WHEN t.stage IN
                    ('accepted', 'handled', 'evaluated', 'closed')
                    THEN t.received_at + interval '3 hours'
                        + (t.id %% 40) * interval '1 hour' END,
                accepted_on_time = t.stage IN
                    ('accepted', 'handled', 'evaluated', 'closed')
                    AND t.id %% 40 < 24,
                handling_due_at = CASE WHEN t.stage IN
                    ('accepted', 'handled', 'evaluated', 'closed')
                    THEN t.received_at + interval '8 days' END,
                handled_at = CASE
                    WHEN t.stage IN ('evaluated', 'closed')
                        THEN LEAST(t.stage_entered_at,
                            t.received_at + (t.id %% 11) * interval '1 day')
                    WHEN t.stage = 'handled' THEN t.stage_entered_at END,
                closing_level = CASE WHEN t.stage = 'closed' THEN
                    (ARRAY['grid', 'grid', 'grid', 'grid', 'grid', 'grid',
                        'community', 'community', 'street', 'above'])
                        [1 + t.id %% 10] ELSE '' END,
                rework_count = CASE WHEN t.id %% 20 = 0 THEN 1 ELSE 0 END,
                report_up_count = CASE WHEN t.id %% 13 = 0 THEN 1 ELSE 0 END
            """,
            [],
        )
        for _name, definition in indexes:
            cursor.execute(definition)
        timings["ticket_columns_seconds"] = round(time.perf_counter() - started, 1)
        cursor.execute(
            "UPDATE grids_region SET households_count = 240 + id %% 120,"
            " population_count = 800 + id %% 400 WHERE level = 'grid'",
            [],
        )
        # One full-time worker a grid, on the roster since 2025.
        cursor.execute("DELETE FROM governance_workerappraisal")
        cursor.execute("DELETE FROM grids_patrol")
        cursor.execute("ALTER TABLE governance_surveyanswer DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM governance_surveyanswer")
        cursor.execute("ALTER TABLE governance_surveyanswer ENABLE TRIGGER USER")
        cursor.execute("DELETE FROM grids_gridassignment")
        cursor.execute("DELETE FROM grids_gridworker WHERE name LIKE 'bench-%%'", [])
        cursor.execute(
            "INSERT INTO grids_gridworker (name, phone, is_party_member)"
            " SELECT 'bench-' || r.id, '137' || lpad(r.id::text, 8, '0'),"
            " r.id %% 3 = 0"
            " FROM grids_region r WHERE r.level = 'grid'",
            [],
        )
        cursor.execute(
            "INSERT INTO grids_gridassignment (worker_id, grid_id, role, started_on)"
            " SELECT w.id, substr(w.name, 7)::bigint, 'full_time', '2025-01-01'"
            " FROM grids_gridworker w WHERE w.name LIKE 'bench-%%'",
            [],
        )
        cursor.execute(
            "INSERT INTO grids_patrol (worker_id, region_id, kind, occurred_at, notes,"
            " photo, created_at)"
            f" SELECT u.id, a.grid_id, 'patrol', {month_start}"
            " + (d * 3 + a.grid_id %% 3) * interval '1 day' + interval '9 hours',"
            " '巡查', '', now()"
            " FROM grids_gridassignment a"
            " JOIN grids_user u ON u.username = 'bench-grid-' || a.grid_id"
            f" CROSS JOIN generate_series(0, {PATROL_DAYS - 1}) d",
            [],
        )
        cursor.execute(
            "INSERT INTO governance_surveyanswer (grid_id, period_kind, period_start,"
            " respondent, attitude, conduct, effect, comment, answered_at)"
            " SELECT r.id, 'month', %s, 'b' || r.id || '-' || k,"
            " 1 + (r.id + k) %% 5, 1 + (r.id + 2 * k) %% 5, 1 + (r.id * k) %% 5, '',"
            f" {month_start} + k * interval '1 day'"
            f" FROM grids_region r CROSS JOIN generate_series(1, {ANSWERS_PER_GRID}) k"
            " WHERE r.level = 'grid'",
            [MONTH],
        )
        cursor.execute(f"COMMENT ON TABLE governance_surveyanswer IS '{MARK}:{MONTH}'")
    with connection.cursor() as cursor:
        for table in (
            "tickets_ticket",
            "grids_region",
            "grids_patrol",
            "grids_gridassignment",
            "governance_surveyanswer",
        ):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    timings["prepare_seconds"] = round(time.perf_counter() - started, 1)
    return timings


def measure(fn, **kwargs) -> dict:
    """Time, peak RSS of the call (VmHWM reset first) and its statements (each
    statement's first words and seconds only: a statement's SQL can be long)."""
    from bench_tickets import _current_rss_mb, _hwm_rss_mb, _reset_peak_rss
    from django.db import connection

    statements = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append(
                (" ".join(sql.split()[:4])[:50], time.perf_counter() - started)
            )

    reset = _reset_peak_rss()
    before = _current_rss_mb()
    with connection.execute_wrapper(record):
        started = time.perf_counter()
        result = fn(**kwargs)
        seconds = time.perf_counter() - started
    database = sum(t for _sql, t in statements)
    slowest = sorted(statements, key=lambda s: -s[1])[:6]
    return {
        "result": result,
        "seconds": round(seconds, 2),
        "peak_rss_mb": _hwm_rss_mb() if reset else None,
        "rss_before_mb": before,
        "statements": len(statements),
        # On PostgreSQL every statement of the job goes through the wrapper
        # (the indicators into a temporary table, the scoring INSERT … SELECT,
        # the grids' summaries): "other_seconds" is Python and the commit.
        "database_seconds": round(database, 2),
        "other_seconds": round(seconds - database, 2),
        "slowest_statements": [[sql, round(t, 2)] for sql, t in slowest],
    }


def main():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _setup import setup

    setup()
    import bench_tickets
    from django.conf import settings

    settings.DEBUG = False
    built = bench_tickets.build()
    prepared = prepare()

    from django.db import connection

    from governance.appraisal import workers_appraise
    from governance.dashboard import LEVELS_ABOVE_GRID, indicator_months_refresh
    from governance.models import GridRating, WorkerAppraisal
    from governance.services import rate_grids
    from grids.models import Region
    from tickets.models import Ticket

    first = measure(rate_grids, month=MONTH)
    rerun = measure(rate_grids, month=MONTH)
    appraise = measure(workers_appraise, month=MONTH)
    # The task's next step: the dashboard summaries of the levels above the
    # grids (rate_grids wrote the grids' own from its pass).
    above = measure(indicator_months_refresh, month=MONTH, levels=LEVELS_ABOVE_GRID)
    ratings = GridRating.objects.filter(month=MONTH)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rating_class, count(*) FROM governance_gridrating"
            " WHERE month = %s GROUP BY 1 ORDER BY 1",
            [MONTH],
        )
        classes = dict(cursor.fetchall())
        cursor.execute(
            "SELECT stars, count(*) FROM governance_workerappraisal"
            " WHERE month = %s GROUP BY 1 ORDER BY 1",
            [MONTH],
        )
        stars = {str(k): v for k, v in cursor.fetchall()}
    result = {
        "month": MONTH.isoformat(),
        "grids": Region.objects.filter(level="grid").count(),
        "tickets": Ticket.objects.count(),
        "ratings": ratings.count(),
        "classes": classes,
        "appraisals": WorkerAppraisal.objects.filter(month=MONTH).count(),
        "stars": stars,
        "build": {**(built["build"] or {}), **prepared},
        "rate_grids": first,
        "rate_grids_rerun": rerun,
        "workers_appraise": appraise,
        "summaries_above_grids": above,
        "targets": {"seconds": 30, "peak_rss_mb": 300},
        "note": os.environ.get("BENCH_NOTE", ""),
    }
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
