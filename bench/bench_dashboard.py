"""The supervisors' dashboard at scale (issue 12): server time of the
district-level page with 2,000,000 tickets (target p95 ≤ 250 ms) and its SQL
statements per request, through Django's test client (logged in, every
middleware, the template rendered), ``BENCH_REQUESTS`` times after a warm-up.

Data: ``bench_tickets``' builder (2,000,000 tickets over 10 districts, 4,900
grids; ``BENCH_TICKETS`` for fewer) on ``DATABASE_URL`` (default
``gridwork_bench_dashboard``), then the dashboard's summary rows of the twelve
months up to ``BENCH_NOW`` (``indicator_months_refresh``: the refresh's time per
month is reported, it is the hourly job's cost) and the ratings of the last two
months (``rate_grids``), each only if missing (``BENCH_REFRESH=1`` redoes the
summaries). Also measured: the same page for a street, and what one month of
one node costs computed from the raw rows (the page's fallback for a month
without summary rows), which is why the summaries exist. Prints one JSON object.

    .venv/bin/python bench/bench_dashboard.py
    BENCH_TICKETS=100000 BENCH_REQUESTS=10 .venv/bin/python bench/bench_dashboard.py
"""

import datetime as dt
import json
import os
import statistics
import time

os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gridwork_bench_dashboard"
)
os.environ.setdefault("BENCH_DISTRICTS", "10")

import _setup
import time_machine

REQUESTS = int(os.environ.get("BENCH_REQUESTS", 30))
WARMUP = 3
TARGET_P95_MS = 250


def _p95(samples):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def ensure_summaries(months, district_id) -> dict:
    """The summary rows of ``months`` (all nodes), computed where missing."""
    from governance.dashboard import indicator_months_refresh
    from governance.dashboard_models import IndicatorMonth

    redo = os.environ.get("BENCH_REFRESH") == "1"
    timings = {}
    for month in months:
        have = IndicatorMonth.objects.filter(
            region_id=district_id, month=month
        ).exists()
        if have and not redo:
            continue
        started = time.perf_counter()
        rows = indicator_months_refresh(month=month)
        timings[f"{month:%Y-%m}"] = {
            "seconds": round(time.perf_counter() - started, 2),
            "rows": rows,
        }
    return timings


def ensure_centres() -> int:
    """A centre point for every grid without one (the map draws them): grids
    laid out on a lattice by id, as a district's would be on its map."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE grids_region SET latitude = 36.5 + mod(id, 70) * 0.004,"
            " longitude = 117.0 + mod(id / 70, 70) * 0.004"
            " WHERE level = 'grid' AND latitude IS NULL"
        )
        return cursor.rowcount


def ensure_ratings(months) -> dict:
    from governance.models import GridRating
    from governance.services import rate_grids

    timings = {}
    for month in months:
        if GridRating.objects.filter(month=month).exists():
            continue
        started = time.perf_counter()
        rated = rate_grids(month=month)
        timings[f"{month:%Y-%m}"] = {
            "seconds": round(time.perf_counter() - started, 2),
            "grids": rated,
        }
    return timings


def measure_page(client, url, repeat) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        assert client.get(url).status_code == 200
    samples, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        samples.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(url)
        traced = time.perf_counter() - started
    statements = [
        {"ms": round(float(q["time"]) * 1000, 1), "sql": q["sql"][:160]}
        for q in captured.captured_queries
    ]
    return {
        "url": url,
        "p95_ms": round(_p95(samples) * 1000, 1),
        "median_ms": round(statistics.median(samples) * 1000, 1),
        "runs": repeat,
        # This process's own CPU time per request (Python and rendering; the
        # database's work is in statements_ms): less sensitive to the load.
        "python_cpu_median_ms": round(statistics.median(cpu) * 1000, 1),
        "statements": len(statements),
        "statements_ms": round(sum(s["ms"] for s in statements), 1),
        "traced_request_ms": round(traced * 1000, 1),
        "slowest_statements": sorted(statements, key=lambda s: -s["ms"])[:5],
        "bytes": len(response.content),
    }


def measure_live_month(node, month) -> dict:
    """One month of one node from the raw rows (no summary row): the page's
    fallback, and what each of twelve months would cost without the table."""
    from governance.dashboard import summary_rows

    samples = []
    for _ in range(3):
        started = time.perf_counter()
        summary_rows(node_ids=[node.pk], month=month, level=node.level)
        samples.append(time.perf_counter() - started)
    return {
        "node_level": node.level,
        "median_ms": round(statistics.median(samples) * 1000, 1),
        "runs": len(samples),
    }


def main():
    _setup.setup()
    import bench_tickets
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from governance.dashboard import months_back
    from grids.models import Region, User
    from tickets.models import Ticket

    settings.DEBUG = False  # no unbounded query log during the build
    built = bench_tickets.build()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    now = dt.datetime.fromisoformat(bench_tickets.NOW_ISO)
    month = now.date().replace(day=1)
    months = months_back(month, 12)
    levels = built["tree"]["levels"]
    district = Region.objects.get(
        pk=sorted(levels["district"])[len(levels["district"]) // 2]
    )
    street = Region.objects.filter(parent=district).order_by("lft").first()
    centres = ensure_centres()
    summaries = ensure_summaries(months, district.pk)
    ratings = ensure_ratings(months[-2:])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE governance_indicatormonth")
        cursor.execute("ANALYZE governance_gridrating")
    supervisor = User.objects.get(username=f"bench-sup-{district.pk}")
    query = f"?month={month:%Y-%m}"
    # The pages run at the data's instant (BENCH_NOW), as bench_tickets' jobs
    # do: "overdue now" is then the built 1 %, not every open ticket.
    with time_machine.travel(now, tick=True):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(supervisor)
        district_page = measure_page(
            client, f"/dashboard/{district.pk}/{query}", REQUESTS
        )
        street_page = measure_page(
            client, f"/dashboard/{street.pk}/{query}", max(5, REQUESTS // 3)
        )
    result = {
        "tickets": Ticket.objects.count(),
        "district_tickets": Ticket.objects.filter(
            place_district_id=district.pk
        ).count(),
        "grids": Region.objects.filter(level="grid").count(),
        "district_grids": Region.objects.filter(
            level="grid",
            tree_id=district.tree_id,
            lft__gt=district.lft,
            rght__lt=district.rght,
        ).count(),
        "month": f"{month:%Y-%m}",
        "build": built["build"] or None,
        "summary_refresh": summaries or "reused",
        "ratings": ratings or "reused",
        "grid_centres_added": centres,
        "district_dashboard": {**district_page, "target_p95_ms": TARGET_P95_MS},
        "street_dashboard": street_page,
        "live_month_district": measure_live_month(district, month),
        "peak_rss_mb": _peak_rss_mb(),
        "machine": {
            "cpus": os.cpu_count(),
            "load": [round(x, 2) for x in os.getloadavg()],
            "note": os.environ.get("BENCH_NOTE", ""),
        },
    }
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main()
