"""Background imports and exports (grids.DataJob) at a street's scale: a
households file of 18,000 rows (a street's 一户一档), 50,000 residents and a
roster of two stints a grid, imported through the job service as street staff
(all-or-nothing, each through its whole-file service: ``JobResource.bulk_import``),
then households and residents exported to xlsx and CSV. Reports rows per
second and peak RSS for each. Prints one JSON object.

    .venv/bin/python bench/bench_io.py
    BENCH_IO_HOUSEHOLDS=2000 BENCH_IO_RESIDENTS=5000 .venv/bin/python bench/bench_io.py

``BENCH_IO_ROW_BY_ROW=1`` imports through the services row by row instead (the
admin's import; the jobs' path before the bulk services), for comparison.

Its own database ``gridwork_bench_io`` (created if missing); the bench street is
emptied and imported again on every run.
"""

import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
from contextlib import contextmanager

os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gridwork_bench_io"
)
os.environ.setdefault("GRIDWORK_VAR_DIR", tempfile.mkdtemp(prefix="gridwork-bench-io-"))

from _setup import setup

HOUSEHOLDS = int(os.environ.get("BENCH_IO_HOUSEHOLDS", 18_000))
RESIDENTS = int(os.environ.get("BENCH_IO_RESIDENTS", 50_000))
# Residents imported through the job (the rest, up to RESIDENTS, are inserted
# directly for the export: row by row, an import of 50,000 takes an hour).
RESIDENTS_IMPORT = min(
    RESIDENTS, int(os.environ.get("BENCH_IO_RESIDENTS_IMPORT", RESIDENTS))
)
COMMUNITIES, GRIDS = 20, 10  # 200 grids: 90 households each at 18,000
# Roster rows (one stint each): by default a full-time and a part-time worker
# on every grid.
ROSTER = int(os.environ.get("BENCH_IO_ROSTER", COMMUNITIES * GRIDS * 2))
ROW_BY_ROW = os.environ.get("BENCH_IO_ROW_BY_ROW") == "1"


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def build_street():
    """District → street → 20 communities → 10 grids each, with codes."""
    from grids.models import Region, User

    district = Region.objects.filter(code="880100").first()
    if district is None:
        from django.db import transaction

        with transaction.atomic():
            district = Region.objects.create(
                name="压测区", level="district", code="880100"
            )
            street = Region.objects.create(
                name="压测街道", level="street", code="880100001", parent=district
            )
            for c in range(1, COMMUNITIES + 1):
                community = Region.objects.create(
                    name=f"压测社区{c}",
                    level="community",
                    code=f"880100001{c:03d}",
                    parent=street,
                )
                for g in range(1, GRIDS + 1):
                    Region.objects.create(
                        name=f"压测社区{c}第{g}网格",
                        level="grid",
                        code=f"{community.code}{g:03d}",
                        parent=community,
                    )
    street = Region.objects.get(code="880100001")
    user, _ = User.objects.get_or_create(
        username="bench-io-street",
        defaults={"role": "street_staff", "region": street, "is_staff": True},
    )
    grids = list(
        Region.objects.filter(level="grid", tree_id=street.tree_id)
        .order_by("code")
        .values_list("code", flat=True)
    )
    return street, User.objects.select_related("region").get(pk=user.pk), grids


def households_csv(grids) -> bytes:
    lines = ["region_code,address,household_number"]
    for n in range(HOUSEHOLDS):
        lines.append(f"{grids[n % len(grids)]},压测路{n // len(grids) + 1}号{n},H{n}")
    return ("\n".join(lines) + "\n").encode()


def resident_row(n, grids) -> tuple:
    from grids.validators import build_id_number

    household = n % HOUSEHOLDS
    grid = grids[household % len(grids)]
    address = f"压测路{household // len(grids) + 1}号{household}"
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=n // 900)
    id_number = build_id_number("370102", birth, n % 900)
    relationship = "户主" if n < HOUSEHOLDS else "子女"
    return grid, address, f"居民{n}", id_number, f"139{n:08d}", relationship


def residents_csv(grids) -> bytes:
    lines = ["region_code,address,name,id_number,phone,relationship,residence_type"]
    for n in range(RESIDENTS_IMPORT):
        lines.append(",".join(resident_row(n, grids)) + ",registered")
    return ("\n".join(lines) + "\n").encode()


def fill_residents(street, grids) -> int:
    """Residents past the imported ones, inserted directly (bench data only), so
    that the export reads RESIDENTS rows however many the import wrote."""
    from grids.models import Household, Resident
    from grids.validators import birth_date_from_id, gender_from_id

    households = {
        (code, address): pk
        for pk, code, address in Household.objects.filter(
            region__tree_id=street.tree_id
        ).values_list("pk", "region__code", "address")
    }
    batch = []
    for n in range(RESIDENTS_IMPORT, RESIDENTS):
        grid, address, name, id_number, phone, _relation = resident_row(n, grids)
        batch.append(
            Resident(
                household_id=households[(grid, address)],
                name=name,
                id_number=id_number,
                gender=gender_from_id(id_number),
                birth_date=birth_date_from_id(id_number),
                phone=phone,
                relationship="child",
            )
        )
    Resident.objects.bulk_create(batch, batch_size=5000)
    return len(batch)


def roster_csv(grids) -> bytes:
    lines = ["grid_code,worker_name,worker_phone,is_party_member,role,started_on"]
    for n in range(ROSTER):
        role = "专职" if n % 2 == 0 else "兼职"
        grid = grids[(n // 2) % len(grids)]
        lines.append(
            f"{grid},压测网格员{n},136{n:08d},{n % 3 == 0:d},{role},2025-01-01"
        )
    return ("\n".join(lines) + "\n").encode()


def row_by_row_only() -> None:
    """Every job imports through the services row by row (no bulk path)."""
    import dataclasses

    from grids.resources import JOB_RESOURCES

    for name, spec in list(JOB_RESOURCES.items()):
        JOB_RESOURCES[name] = dataclasses.replace(spec, bulk_import=None)


@contextmanager
def queued_only():
    """Submit without sending the task: the job stays queued and the bench runs
    the worker's code path (``data_job_run``) itself, timed alone."""
    from django.test import override_settings

    from grids import tasks

    delay = tasks.run_data_job.delay
    tasks.run_data_job.delay = lambda job_id: None
    try:
        with override_settings(DATA_JOB_INLINE_ROWS=0):
            yield
    finally:
        tasks.run_data_job.delay = delay


def run_import(user, resource_name, content) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from grids import services
    from grids.models import DataJob

    with queued_only():
        job = services.data_job_import_submit(
            actor=user,
            resource=resource_name,
            upload=SimpleUploadedFile(f"{resource_name}.csv", content),
            language="zh-hans",
        )
    started = time.perf_counter()
    state = services.data_job_run(job_id=job.pk)
    seconds = time.perf_counter() - started
    job = DataJob.objects.get(pk=job.pk)
    return {
        "state": state,
        "rows": job.rows_written,
        "refused": job.error_count,
        "first_errors": job.row_errors[:3],
        "seconds": round(seconds, 1),
        "rows_per_s": round(job.rows_written / seconds, 1) if seconds else None,
        "peak_rss_mb": peak_rss_mb(),
    }


def run_export(user, resource_name, file_format) -> dict:
    from grids import services
    from grids.models import DataJob

    with queued_only():
        job = services.data_job_export_submit(
            actor=user,
            resource=resource_name,
            file_format=file_format,
            # Over PII_EXPORT_REASON_ROWS rows of personal data: a reason.
            reason="bench: export rate",
        )
    started = time.perf_counter()
    state = services.data_job_run(job_id=job.pk)
    seconds = time.perf_counter() - started
    job = DataJob.objects.get(pk=job.pk)
    path = services.data_job_file(job)
    return {
        "state": state,
        "rows": job.rows_written,
        "seconds": round(seconds, 1),
        "rows_per_s": round(job.rows_written / seconds, 1) if seconds else None,
        "file_mb": round(path.stat().st_size / 1e6, 2) if path else None,
        "peak_rss_mb": peak_rss_mb(),
    }


def main():
    setup()
    from django.db import connection

    from grids.models import DataJob, GridAssignment, GridWorker, Household, Resident

    if ROW_BY_ROW:
        row_by_row_only()
    street, user, grids = build_street()
    Resident.objects.filter(household__region__tree_id=street.tree_id).delete()
    Household.objects.filter(region__tree_id=street.tree_id).delete()
    GridAssignment.objects.filter(grid__tree_id=street.tree_id).delete()
    GridWorker.objects.filter(home_region=street).delete()
    DataJob.objects.filter(actor=user).delete()
    results = {
        "bench": "io",
        "database": connection.vendor,
        "households_file_rows": HOUSEHOLDS,
        "residents_file_rows": RESIDENTS_IMPORT,
        "residents_exported": RESIDENTS,
        "roster_file_rows": ROSTER,
        "imports": "row by row" if ROW_BY_ROW else "bulk",
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }

    def record(name, figures):
        results[name] = figures
        # Each figure as it comes (the residents import is long): stderr.
        print(json.dumps({name: figures}, ensure_ascii=False), file=sys.stderr)

    record("import_households", run_import(user, "households", households_csv(grids)))
    for file_format in ("xlsx", "csv"):
        record(
            f"export_households_{file_format}",
            run_export(user, "households", file_format),
        )
    record("import_residents", run_import(user, "residents", residents_csv(grids)))
    record("import_roster", run_import(user, "roster", roster_csv(grids)))
    results["residents_inserted_directly"] = fill_residents(street, grids)
    for file_format in ("xlsx", "csv"):
        record(
            f"export_residents_{file_format}",
            run_export(user, "residents", file_format),
        )
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
