"""A roster file in bulk (``services.roster_import`` through
``resources.import_roster_in_bulk``, the roster job's ``bulk_import``): the same
workers, stints and errors as the row-by-row import, all or nothing, a bounded
number of statements whatever the file's size."""

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from grids import services
from grids.choices import DataJobState, UserRole, WorkerRole
from grids.models import GridAssignment, GridWorker
from grids.resources import JOB_RESOURCES, import_roster_in_bulk
from grids.services import _common, datajobs
from tests.grids.factories import (
    GridAssignmentFactory,
    GridWorkerFactory,
    UserFactory,
)
from tests.grids.test_residents_import import _coded

COLUMNS = [
    "grid_code",
    "worker_name",
    "worker_phone",
    "is_party_member",
    "role",
    "started_on",
    "ended_on",
]


@pytest.fixture(autouse=True)
def _jobs_dir(settings, tmp_path):
    settings.DATA_JOBS_DIR = tmp_path / "jobs"


@pytest.fixture
def world(db):
    """A street's staff; a worker of the street with an open stint; a worker of
    another district."""
    tree = _coded("3701", "测试区")
    other = _coded("3799", "他区")
    for nodes in (*tree.values(), *other.values()):
        for node in nodes if isinstance(nodes, list) else [nodes]:
            node.refresh_from_db()
    staff = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    mine = GridWorkerFactory(home_region=tree["street"], phone="13911110001")
    GridAssignmentFactory(
        worker=mine,
        grid=tree["grids"][0],
        role=WorkerRole.FULL_TIME,
        started_on="2024-01-01",
    )
    elsewhere = GridWorkerFactory(home_region=other["street"], phone="13911110002")
    return {
        "tree": tree,
        "other": other,
        "staff": staff,
        "mine": mine,
        "elsewhere": elsewhere,
    }


def _dataset(rows):
    return tablib.Dataset(*[list(r) for r in rows], headers=COLUMNS)


def _row_by_row(actor, dataset):
    resource = JOB_RESOURCES["roster"].job_resource(actor)
    result = resource.import_data_inner(dataset, False, False, True, False, user=actor)
    return datajobs._result_errors(result, 0)


def _state():
    workers = sorted(
        GridWorker.objects.values_list(
            "phone", "name", "is_party_member", "home_region_id"
        )
    )
    stints = sorted(
        GridAssignment.objects.values_list(
            "worker__phone", "grid_id", "role", "started_on", "ended_on"
        ),
        key=str,
    )
    return workers, stints


class _Rollback(Exception):
    pass


def _outcome(path, actor, dataset):
    seen = {}
    try:
        with transaction.atomic():
            seen["errors"] = path(actor, dataset)
            seen["state"] = _state()
            raise _Rollback
    except _Rollback:
        pass
    return seen["errors"], None if seen["errors"] else seen["state"]


def _choices(world):
    tree = world["tree"]
    return {
        "grid_code": [
            tree["grids"][0].code,
            tree["grids"][1].code,
            tree["grids"][2].code,
            tree["communities"][0].code,  # not a grid
            world["other"]["grids"][0].code,  # outside the area
            "",
        ],
        "worker_name": ["刘洋", "陈静", " 王强 ", "", "名" * 51],
        "worker_phone": [
            world["mine"].phone,
            "13900000001",
            "139 0000 0002",
            world["elsewhere"].phone,  # a worker of another district
            "12345",
            "",
        ],
        "is_party_member": ["1", "0", "", "是"],
        "role": ["专职", "part_time", "网格长", "", "司机"],
        "started_on": ["2025-01-01", "", "2025-03-01", "去年"],
        "ended_on": ["", "2025-06-30", "", "2024-12-31", "明天"],
    }


VALID = {
    "grid_code": 3,
    "worker_name": 3,
    "worker_phone": 3,
    "is_party_member": 3,
    "role": 3,
    "started_on": 3,
    "ended_on": 3,
}

cells = st.tuples(*(st.integers(0, 9) for _ in COLUMNS))


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(picks=st.lists(cells, min_size=1, max_size=7), valid_only=st.booleans())
def test_the_bulk_import_ends_as_the_row_by_row_import(world, picks, valid_only):
    choices = _choices(world)
    rows = []
    for pick in picks:
        row = []
        for column, index in zip(COLUMNS, pick, strict=True):
            options = (
                choices[column][: VALID[column]] if valid_only else choices[column]
            )
            row.append(options[index % len(options)])
        rows.append(row)
    dataset = _dataset(rows)
    staff = world["staff"]
    expected = _outcome(_row_by_row, staff, dataset)
    event("refused" if expected[0] else "written")
    assert _outcome(import_roster_in_bulk, staff, dataset) == expected


def test_the_roster_job_imports_in_bulk():
    assert JOB_RESOURCES["roster"].bulk_import is import_roster_in_bulk


def _submit(actor, dataset, language="zh-hans"):
    return services.data_job_import_submit(
        actor=actor,
        resource="roster",
        upload=SimpleUploadedFile(
            "roster.csv", dataset.export("csv").encode(), content_type="text/csv"
        ),
        language=language,
    )


def _run(job):
    services.data_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_a_job_starts_and_ends_stints_and_keeps_one_open_stint(world):
    staff, grid = world["staff"], world["tree"]["grids"][0]
    mine = world["mine"]
    dataset = _dataset(
        [
            [grid.code, "刘洋", "13900000001", "1", "专职", "2025-01-01", ""],
            # the same person again: the open stint is kept, then ended
            [grid.code, "刘洋", "13900000001", "", "专职", "2025-02-01", "2025-06-30"],
            [grid.code, "刘洋", "13900000001", "", "专职", "2025-07-01", ""],
            # the stored worker's open stint is ended, and a new one opened
            [grid.code, mine.name, mine.phone, "", "full_time", "", "2025-05-31"],
            [grid.code, mine.name, mine.phone, "", "full_time", "2025-06-01", ""],
        ]
    )
    job = _run(_submit(staff, dataset))
    assert job.state == DataJobState.SUCCEEDED, job.row_errors
    worker = GridWorker.objects.get(phone="13900000001")
    assert worker.is_party_member and worker.home_region == world["tree"]["street"]
    stints = list(
        worker.assignments.order_by("started_on").values_list("started_on", "ended_on")
    )
    assert [(str(a), str(b)) for a, b in stints] == [
        ("2025-01-01", "2025-06-30"),
        ("2025-07-01", "None"),
    ]
    assert mine.assignments.get(ended_on__isnull=True).started_on.isoformat() == (
        "2025-06-01"
    )
    ended = mine.assignments.get(ended_on__isnull=False)
    assert ended.history.first().history_type == "~"
    assert ended.history.first().history_user == staff
    assert worker.history.get().history_user == staff


def test_a_bad_row_refuses_the_whole_file(world):
    staff, grid = world["staff"], world["tree"]["grids"][0]
    before = _state()
    dataset = _dataset(
        [
            [grid.code, "刘洋", "13900000001", "1", "专职", "2025-01-01", ""],
            [grid.code, "陈静", world["elsewhere"].phone, "", "兼职", "", ""],
            [grid.code, "王强", "13900000003", "", "兼职", "2025-03-01", "2025-01-01"],
        ]
    )
    job = _run(_submit(staff, dataset, language="en"))
    assert job.state == DataJobState.FAILED
    assert [e["row"] for e in job.row_errors] == [2, 3]
    assert "cannot be used here" in job.row_errors[0]["message"]
    assert "cannot end before it starts" in job.row_errors[1]["message"]
    assert _state() == before


@pytest.mark.parametrize("size", [10, 200])
def test_the_statements_do_not_grow_with_the_file(
    world, size, django_assert_max_num_queries
):
    codes = [g.code for g in world["tree"]["grids"]]
    rows = [
        [codes[n % 4], f"网格员{n}", f"137{n:08d}", "", "兼职", "2025-01-01", ""]
        for n in range(size - 1)
    ]
    mine = world["mine"]
    rows.append([codes[0], "改名", mine.phone, "", "专职", "", "2025-05-31"])
    job = _submit(world["staff"], _dataset(rows))
    with django_assert_max_num_queries(30):
        assert _run(job).state == DataJobState.SUCCEEDED
    assert GridAssignment.objects.filter(ended_on__isnull=True).count() == size - 1


def test_the_bulk_import_reports_its_counters_as_it_goes(world, monkeypatch):
    monkeypatch.setattr(_common, "PROGRESS_EVERY", 4)
    codes = [g.code for g in world["tree"]["grids"]]
    rows = [
        [codes[n % 4], f"网格员{n}", f"137{n:08d}", "", "兼职", "2025-01-01", ""]
        for n in range(9)
    ]
    rows.append([codes[0], "改名", world["mine"].phone, "", "专职", "", "2025-05-31"])
    seen = []
    with transaction.atomic():
        errors = import_roster_in_bulk(
            world["staff"],
            _dataset(rows),
            progress=lambda **counters: seen.append(counters),
        )
    assert errors == []
    checked = [c["checked"] for c in seen if "checked" in c]
    written = [c["written"] for c in seen if "written" in c]
    # Every 4 rows read, then the whole file; the stint ended, then the 9 new.
    assert checked == [4, 8, 10]
    assert written == [1, 10]
    assert {c["errors"] for c in seen if "errors" in c} == {0}
