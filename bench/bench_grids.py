"""Province scale for the Region tree: 100 districts × 10 streets × 7 communities
× 7 grids = 49,000 grids (plus 3 buildings each: ~200,000 nodes), one household
per grid. Measures the scoped reads every page and job starts from, and the
set-based recount. Prints one JSON object.

    .venv/bin/python bench/bench_grids.py            # builds the tree once, then measures
    DATABASE_URL=postgres://…/other .venv/bin/python bench/bench_grids.py
"""

import json
import os
import statistics
import time

from _setup import setup

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


def timed(fn, repeat=5):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return {"median_ms": round(statistics.median(samples) * 1000, 2), "result": result}


def main():
    setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from grids import selectors, services
    from grids.models import Region, User

    build_seconds = build_tree()
    street = Region.objects.filter(level="street").order_by("pk")[
        DISTRICTS * STREETS // 2
    ]
    district = Region.objects.filter(level="district").order_by("pk")[DISTRICTS // 2]
    User.objects.filter(username__startswith="bench-").delete()
    street_user, _ = User.objects.get_or_create(
        username="bench-street", defaults={"role": "street_staff", "region": street}
    )
    district_user, _ = User.objects.get_or_create(
        username="bench-district", defaults={"role": "supervisor", "region": district}
    )
    street_user = User.objects.select_related("region").get(pk=street_user.pk)
    district_user = User.objects.select_related("region").get(pk=district_user.pk)

    results = {
        "regions": Region.objects.count(),
        "grids": Region.objects.filter(level="grid").count(),
        "build_seconds": round(build_seconds, 1) if build_seconds else None,
        "street_grid_list": timed(
            lambda: len(list(selectors.grid_list(actor=street_user)))
        ),
        "district_grid_list": timed(
            lambda: len(list(selectors.grid_list(actor=district_user)))
        ),
        "district_without_full_time_worker": timed(
            lambda: selectors.grids_without_full_time_worker(
                actor=district_user
            ).count()
        ),
        "region_counts_refresh_all": timed(services.region_counts_refresh, repeat=1),
    }
    with CaptureQueriesContext(connection) as queries:
        list(selectors.grid_list(actor=district_user))
    results["district_grid_list"]["queries"] = len(queries)
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
