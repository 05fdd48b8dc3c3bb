"""The grids lists at the seeds' scale: ``BENCH_GRIDS`` grids (default 2,062, a
district: ~620,000 households, ~2,060,000 residents; 49,000 is a province), built
once by ``bench/generate.py``. Measures, through the real admin changelists (the
Django test client against the admin views, logged in, full middleware and
template rendering), the households list of a district supervisor (first page
and a deep page), of a street's staff, and the residents list, each
``BENCH_REQUESTS`` times after a warm-up, with p50/p95, statements per request
and the plans of the page and count queries; then what the old per-page
resident-count annotation costs at this size, the scoped grid reads, and the
set-based recounts. Prints one JSON object.

    .venv/bin/python bench/bench_grids.py                   # district, ~3 minutes
    BENCH_GRIDS=200 BENCH_REQUESTS=20 .venv/bin/python bench/bench_grids.py
"""

import json
import os
import statistics
import time

from _setup import setup

GRID_COUNT = int(os.environ.get("BENCH_GRIDS", 2062))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 100))
WARMUP = 5


# --- The province tree bench_tickets.py builds its tickets on -----------------
# (kept as it was: ``bench_grids.DISTRICTS``/``STREETS``/``COMMUNITIES``/``GRIDS``
# and ``build_tree()``; 490 grids a district, 3 buildings a grid, one household
# a grid). bench_grids itself measures on generate.py's district.

DISTRICTS = int(os.environ.get("BENCH_DISTRICTS", 100))
STREETS, COMMUNITIES, GRIDS, BUILDINGS = 10, 7, 7, 3


LEVELS = (
    ("street", STREETS, "街道"),
    ("community", COMMUNITIES, "社区"),
    ("grid", GRIDS, "网格"),
    ("building", BUILDINGS, "楼"),
)


def _district(d: int, next_id: int) -> tuple[dict, int]:
    """A nested dict of one district for ``build_tree_nodes`` (explicit ids)."""
    counter = [next_id]

    def node(name, level, code, parent_id, depth):
        pk = counter[0]
        counter[0] += 1
        children = []
        if depth < len(LEVELS):
            child_level, count, label = LEVELS[depth]
            children = [
                node(f"{label}{code}-{i}", child_level, f"{code}{i:03d}", pk, depth + 1)
                for i in range(1, count + 1)
            ]
        return {
            "id": pk,
            "name": name,
            "level": level,
            "code": code,
            "parent_id": parent_id,
            "children": children,
        }

    code = f"{410100 + d:06d}"
    return node(f"区{d}", "district", code, None, 0), counter[0]


def build_tree():
    """Insert the province once (bulk, MPTT columns computed in Python)."""
    from django.db import connection, transaction

    from grids.models import Household, Region

    if (
        Region.objects.filter(level="grid").count()
        >= DISTRICTS * STREETS * COMMUNITIES * GRIDS
    ):
        return None
    started = time.perf_counter()
    with transaction.atomic():
        Household.objects.all().delete()
        Region.objects.all().delete()
        next_id = 1
        for d in range(DISTRICTS):
            data, next_id = _district(d, next_id)
            Region.objects.bulk_create(
                Region.objects.build_tree_nodes(data), batch_size=5000
            )
        grids = Region.objects.filter(level="grid").values_list("pk", flat=True)
        Household.objects.bulk_create(
            [Household(region_id=pk, address=f"{pk}号") for pk in grids],
            batch_size=10000,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('grids_region', 'id'), "
                "(SELECT MAX(id) FROM grids_region))"
            )
    return time.perf_counter() - started


# --- The measures ---------------------------------------------------------------


def percentile(samples, share):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def explain(sql: str, params) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement, in short, with the plan text."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()[0]
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        text = [row[0] for row in cursor.fetchall()]
    scans = []

    def walk(node):
        if "Relation Name" in node or "Index Name" in node:
            scans.append(
                f"{node['Node Type']} "
                f"{node.get('Index Name') or node.get('Relation Name')}"
            )
        for child in node.get("Plans", ()):
            walk(child)

    walk(plan["Plan"])
    return {
        "execution_ms": round(plan["Execution Time"], 2),
        "planning_ms": round(plan["Planning Time"], 2),
        "rows": plan["Plan"]["Actual Rows"],
        "scans": scans,
        "plan": text,
    }


def _statement(queries, table, *, count: bool):
    """The changelist's page query (``LIMIT``, no COUNT) or its count query on
    ``table``: chosen by what it selects, not by position."""
    for query in queries:
        sql = query["sql"]
        is_count = sql.startswith("SELECT COUNT(")
        if is_count != count:
            continue
        # The page query reads FROM the table; the capped count wraps the same
        # read in a subquery (``COUNT(*) FROM (SELECT … FROM table … LIMIT n)``).
        if is_count and f'FROM "{table}"' in sql:
            return sql
        if not is_count and " LIMIT " in sql and f' FROM "{table}" ' in sql:
            return sql
    return None


def measure_page(client, url, table, requests=REQUESTS) -> dict:
    """``requests`` GETs of an admin page after a warm-up: latency percentiles,
    statements per request, and the plans of the list's page and count queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    page_sql = _statement(queries.captured_queries, table, count=False)
    count_sql = _statement(queries.captured_queries, table, count=True)
    return {
        "url": url,
        "requests": requests,
        # The machine's load while measuring (1-minute average, all processes).
        "load_average": round(os.getloadavg()[0], 2),
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 0.95), 1),
        "max_ms": round(max(samples), 1),
        "statements": len(queries.captured_queries),
        "database_ms": round(
            sum(float(q["time"]) for q in queries.captured_queries) * 1000, 1
        ),
        "page_plan": explain(page_sql, None) if page_sql else None,
        "count_plan": explain(count_sql, None) if count_sql else None,
    }


def timed(fn, repeat=5):
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return {"median_ms": round(statistics.median(samples) * 1000, 1), "result": result}


def old_annotation_page(user) -> dict:
    """The households page as it was before the counter column: every household
    in scope grouped to count its residents, then sorted, then 100 taken."""
    from django.db.models import Count

    from grids.models import Household

    queryset = (
        Household.objects.visible_to(user)
        .select_related("region")
        .annotate(_residents=Count("residents"))
        .order_by("region_id", "address")[:100]
    )
    sql, params = queryset.query.sql_with_params()
    summary = explain(sql, params)
    summary["plan"] = summary["plan"][:12]
    return summary


def main():
    setup()
    from django.conf import settings
    from django.test import Client
    from generate import ensure_dataset, ensure_users

    from grids import selectors, services

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    started = time.perf_counter()
    dataset = ensure_dataset(grids=GRID_COUNT)
    build = {
        "built": dataset.built,
        "seconds": round(time.perf_counter() - started, 1),
        **dataset.seconds,
    }
    users = ensure_users(dataset)
    district_user, street_user = users["supervisor"], users["street_staff"]

    def client_for(user):
        client = Client()
        client.force_login(user)
        return client

    district, street = client_for(district_user), client_for(street_user)
    households_url = "/admin/grids/household/"
    deep_page = min(50, max(dataset.households // 100 - 1, 0))
    results = {
        "grids": dataset.grids,
        "regions": dataset.regions,
        "households": dataset.households,
        "residents": dataset.residents,
        "build": build,
        "households_changelist_district": measure_page(
            district, households_url, "grids_household"
        ),
        "households_changelist_district_page_50": measure_page(
            district, f"{households_url}?p={deep_page}", "grids_household"
        ),
        "households_changelist_street": measure_page(
            street, households_url, "grids_household"
        ),
        "residents_changelist_district": measure_page(
            district, "/admin/grids/resident/", "grids_resident"
        ),
        "old_resident_count_annotation_page": old_annotation_page(district_user),
        "street_grid_list": timed(
            lambda: len(list(selectors.grid_list(actor=street_user)))
        ),
        "district_grid_list": timed(
            lambda: len(list(selectors.grid_list(actor=district_user)))
        ),
        "household_resident_counts_refresh_all": timed(
            services.household_resident_counts_refresh, repeat=1
        ),
        "region_counts_refresh_all": timed(services.region_counts_refresh, repeat=1),
    }
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
