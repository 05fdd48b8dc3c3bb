"""A residents file in bulk (``services.residents_import`` through
``resources.import_residents_in_bulk``, the residents job's ``bulk_import``):
the same rows and the same errors as the row-by-row import, all or nothing, a
bounded number of statements whatever the file's size."""

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from grids import services
from grids.choices import DataJobState, UserRole
from grids.models import Household, Region, Resident
from grids.resources import JOB_RESOURCES, import_residents_in_bulk
from grids.services import _common, datajobs
from tests.grids.factories import (
    HouseholdFactory,
    ResidentFactory,
    UserFactory,
    make_tree,
    next_id_number,
)

COLUMNS = ["region_code", "address", "id_number"]
OPTIONAL = ["name", "phone", "relationship", "residence_type"]


@pytest.fixture(autouse=True)
def _jobs_dir(settings, tmp_path):
    settings.DATA_JOBS_DIR = tmp_path / "jobs"


def _coded(prefix, name):
    tree = make_tree(name=name)
    nodes = [tree["district"], tree["street"], *tree["communities"], *tree["grids"]]
    for number, node in enumerate(nodes):
        Region.objects.filter(pk=node.pk).update(code=f"{prefix}{number:04d}")
        node.refresh_from_db()
    return tree


def _bad_check_digit(id_number):
    return id_number[:-1] + ("0" if id_number[-1] != "0" else "1")


@pytest.fixture
def world(db):
    """A street with two households and three residents (one inactive), its
    staff, and a resident of another district."""
    tree = _coded("3701", "测试区")
    other = _coded("3799", "他区")
    # A new tree may renumber the trees (MPTT): read the nodes again.
    for nodes in (*tree.values(), *other.values()):
        for node in nodes if isinstance(nodes, list) else [nodes]:
            node.refresh_from_db()
    staff = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    grid = tree["grids"][0]
    first = HouseholdFactory(region=grid, address="幸福路1号", household_number="H1")
    second = HouseholdFactory(region=grid, address="幸福路2号")
    mine = ResidentFactory(household=first, name="老住户")
    inactive = ResidentFactory(household=second, is_active=False)
    ResidentFactory(household=first)
    elsewhere = ResidentFactory(household=HouseholdFactory(region=other["grids"][0]))
    # The factories bypass the services: give the stored counts their values.
    services.household_resident_counts_refresh()
    return {
        "tree": tree,
        "other": other,
        "staff": staff,
        "mine": mine,
        "inactive": inactive,
        "elsewhere": elsewhere,
        "new": [next_id_number() for _ in range(3)],
    }


def _dataset(rows, columns=(*COLUMNS, *OPTIONAL)):
    return tablib.Dataset(*[list(r) for r in rows], headers=list(columns))


def _row_by_row(actor, dataset):
    """The residents import as the job ran it before (a service call per row)."""
    resource = JOB_RESOURCES["residents"].job_resource(actor)
    result = resource.import_data_inner(dataset, False, False, True, False, user=actor)
    return datajobs._result_errors(result, 0)


def _state():
    households = sorted(
        Household.objects.values_list(
            "region_id", "address", "household_number", "notes", "resident_count"
        )
    )
    residents = sorted(
        (
            r.id_number,
            r.name,
            r.phone,
            r.relationship,
            r.residence_type,
            r.household.region_id,
            r.household.address,
            r.birth_date,
            r.gender,
            r.is_active,
        )
        for r in Resident.objects.select_related("household")
    )
    return households, residents


class _Rollback(Exception):
    pass


def _outcome(path, actor, dataset):
    """(row errors, the tables after the import) with the import rolled back."""
    seen = {}
    try:
        with transaction.atomic():
            seen["errors"] = path(actor, dataset)
            seen["state"] = _state()
            raise _Rollback
    except _Rollback:
        pass
    # A refused file writes nothing: the job rolls its transaction back.
    return seen["errors"], None if seen["errors"] else seen["state"]


# --- the same as row by row ------------------------------------------------------

# Each cell: an index into the world's choices for that column.
cells = st.tuples(*(st.integers(0, 9) for _ in range(7)))


def _choices(world):
    tree, other = world["tree"], world["other"]
    mine, inactive = world["mine"], world["inactive"]
    new = world["new"]
    return {
        "region_code": [
            tree["grids"][0].code,
            tree["grids"][1].code,
            tree["grids"][0].code,
            tree["grids"][3].code,
            tree["communities"][0].code,  # not a grid: no household there
            other["grids"][0].code,  # outside the area
            "99999999",
            "",
            f"{tree['grids'][1].code}.0",  # as Excel turns codes into floats
        ],
        "address": ["幸福路1号", "幸福路2号", "新路3号", " 新路3号 ", "", "长" * 201],
        "id_number": [
            new[0],
            new[1],
            new[2],
            mine.id_number,
            inactive.id_number,
            new[0].lower() if new[0].endswith("X") else f" {new[0]}",
            world["elsewhere"].id_number,
            _bad_check_digit(new[1]),
            "",
            "1234",
        ],
        "name": ["张三", "李四", " 王五 ", "", "名" * 51],
        "phone": ["13800000001", "", "010-12345678", "12345"],
        "relationship": ["户主", "child", "Spouse", "", "表亲"],
        "residence_type": ["registered", "流动人口", "", "nowhere"],
    }


def _file(world, picks, optional, valid_only):
    choices = _choices(world)
    columns = [*COLUMNS, *[c for c in OPTIONAL if c in optional]]
    # The first few choices of each column are valid ones.
    valid = {
        "region_code": 4,
        "address": 4,
        "id_number": 6,
        "name": 3,
        "phone": 3,
        "relationship": 4,
        "residence_type": 3,
    }
    rows = []
    for pick in picks:
        row = []
        for column, index in zip(COLUMNS + OPTIONAL, pick, strict=True):
            if column not in columns:
                continue
            options = (
                choices[column][: valid[column]] if valid_only else choices[column]
            )
            row.append(options[index % len(options)])
        rows.append(row)
    return _dataset(rows, columns)


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    picks=st.lists(cells, min_size=1, max_size=7),
    optional=st.sets(st.sampled_from(OPTIONAL)),
    valid_only=st.booleans(),
)
def test_the_bulk_import_ends_as_the_row_by_row_import(
    world, picks, optional, valid_only
):
    dataset = _file(world, picks, optional, valid_only)
    staff = world["staff"]
    expected = _outcome(_row_by_row, staff, dataset)
    event("refused" if expected[0] else "written")
    assert _outcome(import_residents_in_bulk, staff, dataset) == expected


def test_a_clean_file_writes_the_same_rows_as_row_by_row(world):
    tree, new = world["tree"], world["new"]
    grid, other_grid = tree["grids"][0].code, tree["grids"][1].code
    dataset = _dataset(
        [
            [grid, "幸福路1号", new[0], "张三", "13800000001", "户主", "registered"],
            # the stored resident, moved to a new household, renamed
            [
                other_grid,
                "新路3号",
                world["mine"].id_number,
                "老住户改",
                "",
                "子女",
                "",
            ],
            [other_grid, "新路3号", new[1], "李四", "", "配偶", "流动人口"],
            # the same number again: the later row updates the earlier one
            [grid, "幸福路2号", new[0], "张三丰", "13800000002", "户主", "registered"],
        ]
    )
    expected = _outcome(_row_by_row, world["staff"], dataset)
    assert expected[0] == []
    assert _outcome(import_residents_in_bulk, world["staff"], dataset) == expected
    _households, residents = expected[1]
    assert ("张三丰", "13800000002") in {(r[1], r[2]) for r in residents}


# --- through the job ---------------------------------------------------------------


def _submit(actor, dataset, language="zh-hans"):
    content = dataset.export("csv").encode()
    return services.data_job_import_submit(
        actor=actor,
        resource="residents",
        upload=SimpleUploadedFile("residents.csv", content, content_type="text/csv"),
        language=language,
    )


def _run(job):
    services.data_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_the_residents_job_imports_in_bulk():
    assert JOB_RESOURCES["residents"].bulk_import is import_residents_in_bulk


def test_a_job_writes_residents_households_counts_and_history(world):
    staff, grid = world["staff"], world["tree"]["grids"][0]
    new = world["new"]
    dataset = _dataset(
        [
            [grid.code, "新路9号", new[0], "张三", "13800000001", "户主", ""],
            [grid.code, "新路9号", new[1], "李四", "", "配偶", ""],
            [grid.code, "幸福路2号", world["mine"].id_number, "老住户", "", "户主", ""],
        ]
    )
    job = _run(_submit(staff, dataset))
    assert job.state == DataJobState.SUCCEEDED, job.row_errors
    assert job.rows_written == 3
    created = Household.objects.get(region=grid, address="新路9号")
    assert created.resident_count == 2
    assert created.history.get().history_user == staff
    # The stored resident moved from 幸福路1号 to 幸福路2号: both counts follow.
    counts = dict(Household.objects.values_list("address", "resident_count"))
    assert counts["幸福路1号"] == 1 and counts["幸福路2号"] == 1
    moved = Resident.objects.get(pk=world["mine"].pk)
    assert moved.household.address == "幸福路2号"
    assert moved.history.first().history_type == "~"
    assert moved.history.first().history_user == staff
    assert Resident.history.filter(history_type="+", history_user=staff).count() == 2


def test_history_rows_hold_no_personal_data(world):
    staff, grid = world["staff"], world["tree"]["grids"][0]
    id_number, phone = world["new"][0], "13812345678"
    dataset = _dataset([[grid.code, "新路9号", id_number, "张三", phone, "户主", ""]])
    assert _run(_submit(staff, dataset)).state == DataJobState.SUCCEEDED
    table = Resident.history.model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE history_user_id = %s", [staff.pk])
        columns = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
    assert len(rows) == 1
    assert not {"id_number", "id_number_hash", "phone", "birth_date", "gender"} & set(
        columns
    )
    stored = " ".join(str(value) for value in rows[0])
    assert id_number not in stored and phone not in stored
    assert id_number[6:14] not in stored  # nor the birth date


def test_a_bad_row_at_the_end_of_a_big_file_writes_nothing(world, settings):
    settings.DATA_JOB_INLINE_ROWS = 0
    staff, codes = world["staff"], [g.code for g in world["tree"]["grids"]]
    rows = [
        [codes[n % 4], f"新路{n % 50}号", next_id_number(), f"居民{n}", "", "子女", ""]
        for n in range(300)
    ]
    rows.append(
        [codes[0], "新路1号", _bad_check_digit(next_id_number()), "错", "", "", ""]
    )
    before = _state()
    job = _run(_submit(staff, _dataset(rows), language="en"))
    assert job.state == DataJobState.FAILED
    assert [e["row"] for e in job.row_errors] == [301]
    assert "check digit" in job.row_errors[0]["message"]
    assert job.rows_written == 0 and job.error_count == 1
    assert _state() == before
    assert not Resident.history.filter(history_user=staff).exists()
    assert not Household.history.filter(history_user=staff).exists()


def test_errors_are_told_in_the_users_language_with_their_row(world):
    staff, grid = world["staff"], world["tree"]["grids"][0]
    bad = _bad_check_digit(next_id_number())
    dataset = _dataset(
        [
            [grid.code, "新路1号", next_id_number(), "甲", "", "", ""],
            [grid.code, "新路1号", bad, "乙", "", "", ""],
            [grid.code, "新路1号", next_id_number(), "丙", "", "表亲", ""],
        ]
    )
    job = _run(_submit(staff, dataset))
    assert [(e["row"], e["field"]) for e in job.row_errors] == [
        (2, ""),
        (3, "relationship"),
    ]
    assert "校验" in job.row_errors[0]["message"]
    assert "表亲" in job.row_errors[1]["message"]


def test_rows_outside_the_area_are_refused(world):
    staff, grid = world["staff"], world["tree"]["grids"][0]
    foreign = world["other"]["grids"][0]
    dataset = _dataset(
        [
            [grid.code, "新路1号", next_id_number(), "甲", "", "", ""],
            [foreign.code, "越界路1号", next_id_number(), "乙", "", "", ""],
            # a number held by a resident of another district: not taken over
            [grid.code, "新路1号", world["elsewhere"].id_number, "丙", "", "", ""],
        ]
    )
    before = _state()
    job = _run(_submit(staff, dataset, language="en"))
    assert job.state == DataJobState.FAILED
    assert [e["row"] for e in job.row_errors] == [2, 3]
    assert "No region with code" in job.row_errors[0]["message"]
    assert "already registered" in job.row_errors[1]["message"]
    assert _state() == before
    elsewhere = Resident.objects.get(pk=world["elsewhere"].pk)
    assert elsewhere.name == world["elsewhere"].name


def test_a_number_repeated_in_the_file_and_one_stored_are_one_resident_each(world):
    staff, grid = world["staff"], world["tree"]["grids"][0]
    repeated, mine = next_id_number(), world["mine"]
    dataset = _dataset(
        [
            [grid.code, "新路1号", repeated, "甲", "13800000001", "户主", ""],
            # the stored resident as it is: not written again
            [grid.code, "幸福路1号", mine.id_number, "老住户", mine.phone, "户主", ""],
            [grid.code, "新路2号", repeated, "甲二", "", "子女", ""],
        ]
    )
    job = _run(_submit(staff, dataset))
    assert job.state == DataJobState.SUCCEEDED, job.row_errors
    resident = Resident.objects.with_id_number(repeated).get()
    assert (resident.name, resident.phone, resident.household.address) == (
        "甲二",
        "",
        "新路2号",
    )
    assert Resident.objects.with_id_number(world["mine"].id_number).count() == 1
    counts = dict(Household.objects.values_list("address", "resident_count"))
    assert counts["新路1号"] == 0 and counts["新路2号"] == 1
    # Unchanged: no history row written for the stored resident.
    assert (
        not Resident.history.filter(history_user=staff)
        .exclude(history_type="+")
        .exists()
    )


def test_a_file_without_the_id_number_column_is_one_error_for_the_file(world):
    staff, grid = world["staff"], world["tree"]["grids"][0]
    dataset = _dataset(
        [[grid.code, "新路1号", "甲"]], ["region_code", "address", "name"]
    )
    assert _outcome(import_residents_in_bulk, staff, dataset) == _outcome(
        _row_by_row, staff, dataset
    )
    job = _run(_submit(staff, dataset))
    assert [e["row"] for e in job.row_errors] == [0]


def _residents_file(world, size, tag="新", mine_at="幸福路1号"):
    """New residents in new households, and the two stored ones of the area
    changed: one moved from ``mine_at``, the other moved there."""
    codes = [g.code for g in world["tree"]["grids"]]
    rows = [
        [
            codes[n % 4],
            f"{tag}路{n % 7}号",
            next_id_number(),
            f"居民{n}",
            "",
            "子女",
            "",
        ]
        for n in range(size - 2)
    ]
    mine, inactive = world["mine"].id_number, world["inactive"].id_number
    rows.append([codes[0], f"{tag}路0号", mine, f"{tag}名", "", "", ""])
    rows.append([codes[0], mine_at, inactive, f"{tag}名", "", "", ""])
    return _dataset(rows)


@pytest.mark.parametrize("size", [10, 200])
def test_the_statements_do_not_grow_with_the_file(
    world, size, django_assert_max_num_queries
):
    job = _submit(world["staff"], _residents_file(world, size))
    # The job's reads and writes, a lookup per region code, then per 2,000
    # rows: the households and residents looked up, the households and
    # residents inserted, the changed residents updated, the history rows,
    # the counts recomputed.
    with django_assert_max_num_queries(30):
        assert _run(job).state == DataJobState.SUCCEEDED
    assert Resident.objects.count() == 4 + size - 2


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite splits an INSERT by its limit of parameters a statement",
)
def test_the_statement_count_is_the_same_at_10_and_200_rows(world):
    counts = []
    for size, tag, mine_at in ((10, "东", "幸福路1号"), (200, "西", "东路0号")):
        job = _submit(world["staff"], _residents_file(world, size, tag, mine_at))
        with CaptureQueriesContext(connection) as captured:
            assert _run(job).state == DataJobState.SUCCEEDED
        counts.append([q["sql"][:70] for q in captured])
    assert len(counts[0]) == len(counts[1]), counts


def test_the_bulk_import_reports_its_counters_as_it_goes(world, monkeypatch):
    monkeypatch.setattr(_common, "PROGRESS_EVERY", 4)
    seen = []
    with transaction.atomic():
        errors = import_residents_in_bulk(
            world["staff"],
            _residents_file(world, 10),
            progress=lambda **counters: seen.append(counters),
        )
    assert errors == []
    checked = [c["checked"] for c in seen if "checked" in c]
    written = [c["written"] for c in seen if "written" in c]
    # Every 4 rows read, then the whole file; the 8 new residents, then the 2
    # changed ones; the rows checked before anything is written.
    assert checked == [4, 8, 10]
    assert written == [8, 10]
    assert {c["errors"] for c in seen if "errors" in c} == {0}
    assert seen.index({"written": 8}) > seen.index({"checked": 10, "errors": 0})
