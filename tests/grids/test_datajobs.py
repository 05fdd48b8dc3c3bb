"""Background imports and exports (grids.DataJob, grids.services.datajobs)."""

import io
import threading

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from grids import services
from grids.choices import DataJobKind, DataJobState, UserRole
from grids.errors import DomainError, NotAllowed
from grids.models import DataJob, Household, Region
from grids.services import _common, datajobs
from tests.grids.factories import HouseholdFactory, UserFactory, make_tree

HEADERS = "region_code,address,household_number"


@pytest.fixture(autouse=True)
def _jobs_dir(settings, tmp_path):
    settings.DATA_JOBS_DIR = tmp_path / "jobs"


def _code(tree, prefix="3701"):
    """Give every node of ``tree`` a code (the import names regions by code)."""
    nodes = [tree["district"], tree["street"], *tree["communities"], *tree["grids"]]
    for number, node in enumerate(nodes):
        Region.objects.filter(pk=node.pk).update(code=f"{prefix}{number:04d}")
        node.refresh_from_db()
    return tree


def _households_csv(grid_code, count, *, bad_row=None, start=0):
    lines = [HEADERS]
    for n in range(start, start + count):
        code = (
            "99999999"
            if bad_row is not None and n - start + 1 == bad_row
            else grid_code
        )
        lines.append(f"{code},幸福路{n}号,H{n}")
    return ("\n".join(lines) + "\n").encode()


def _upload(content, name="households.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def _submit(actor, content, name="households.csv", resource="households"):
    return services.data_job_import_submit(
        actor=actor,
        resource=resource,
        upload=_upload(content, name),
        language="zh-hans",
    )


@pytest.fixture
def coded(db):
    return _code(make_tree())


@pytest.fixture
def staff(coded):
    return UserFactory(role=UserRole.STREET_STAFF, region=coded["street"])


# --- import -----------------------------------------------------------------


def test_small_import_runs_in_the_request_and_writes_every_row(
    coded, staff, django_capture_on_commit_callbacks
):
    grid = coded["grids"][0]
    with django_capture_on_commit_callbacks(execute=True):
        job = _submit(staff, _households_csv(grid.code, 3))
    job.refresh_from_db()
    assert job.state == DataJobState.SUCCEEDED
    assert (job.rows_total, job.rows_checked, job.rows_written) == (3, 3, 3)
    assert job.error_count == 0 and job.row_errors == []
    assert Household.objects.filter(region=grid).count() == 3
    assert job.started_at and job.finished_at


def test_big_import_goes_to_the_worker_queue(
    coded, staff, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from grids import broker

    settings.DATA_JOB_INLINE_ROWS = 2
    sent = []
    monkeypatch.setattr(broker, "enqueue", lambda task, job_id: sent.append(job_id))
    with django_capture_on_commit_callbacks(execute=True):
        job = _submit(staff, _households_csv(coded["grids"][0].code, 3))
    assert sent == [job.pk]
    job.refresh_from_db()
    assert job.state == DataJobState.QUEUED
    assert not Household.objects.exists()
    assert services.data_job_run(job_id=job.pk) == DataJobState.SUCCEEDED
    assert Household.objects.count() == 3


def test_an_error_on_the_last_row_of_many_chunks_leaves_nothing_written(
    coded, staff, settings, django_capture_on_commit_callbacks
):
    # Nine chunks of 100 rows: the first eight are imported before the last
    # row's error, and the whole file still writes nothing. (The property does
    # not depend on the file's size; a 9,000-row file took minutes in the suite.)
    settings.DATA_JOB_CHUNK_ROWS = 100
    grid = coded["grids"][0]
    with django_capture_on_commit_callbacks(execute=False):
        job = _submit(staff, _households_csv(grid.code, 900, bad_row=900))
    assert job.rows_total == 900
    assert services.data_job_run(job_id=job.pk) == DataJobState.FAILED
    job.refresh_from_db()
    assert not Household.objects.exists()
    assert job.rows_checked == 900
    assert job.rows_written == 0
    assert job.error_count == 1
    assert job.row_errors == [
        {
            "row": 900,
            "field": "",
            "message": "您的管辖范围内没有编码为 99999999 的区域。",
        }
    ]
    assert job.message == "有 1 行未通过校验，文件中的数据均未写入。请修改后重新上传。"


def test_row_errors_name_row_and_field_in_the_users_language(coded, staff):
    grid = coded["grids"][0]
    content = (
        f"{HEADERS}\n{grid.code},幸福路1号,H1\n,幸福路2号,H2\n{grid.code},幸福路3号,H3\n"
    ).encode()
    job = services.data_job_import_submit(
        actor=staff, resource="households", upload=_upload(content), language="en"
    )
    services.data_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == DataJobState.FAILED
    assert job.row_errors == [
        {"row": 2, "field": "", "message": "region_code is required."}
    ]
    assert job.message.startswith("1 rows were refused")
    assert not Household.objects.exists()


def test_a_missing_column_is_one_error_for_the_file(coded, staff):
    job = _submit(staff, "address,household_number\n幸福路1号,H1\n".encode())
    services.data_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == DataJobState.FAILED
    assert [e["row"] for e in job.row_errors] == [0]
    assert not Household.objects.exists()


def test_rows_outside_the_uploaders_area_are_refused(coded):
    sibling_grid = coded["grids"][2]  # under the second community
    community_staff = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=coded["communities"][0]
    )
    content = (
        f"{HEADERS}\n{coded['grids'][0].code},幸福路1号,H1\n"
        f"{sibling_grid.code},幸福路2号,H2\n"
    ).encode()
    job = _submit(community_staff, content)
    services.data_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == DataJobState.FAILED
    assert [e["row"] for e in job.row_errors] == [2]
    assert job.region == coded["communities"][0]
    assert not Household.objects.exists()


def test_a_role_that_may_not_import_is_refused(coded):
    supervisor = UserFactory(role=UserRole.SUPERVISOR, region=coded["district"])
    with pytest.raises(NotAllowed):
        _submit(supervisor, _households_csv(coded["grids"][0].code, 1))
    assert not DataJob.objects.exists()


def test_unreadable_or_unknown_files_are_refused(coded, staff):
    from grids.errors import DomainError

    with pytest.raises(DomainError):
        _submit(staff, b"x", name="households.pdf")
    with pytest.raises(DomainError):
        _submit(staff, b"not a workbook", name="households.xlsx")
    assert not DataJob.objects.exists()


def test_xlsx_import(coded, staff):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADERS.split(","))
    sheet.append([coded["grids"][0].code, "幸福路1号", "H1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = _submit(staff, buffer.getvalue(), name="households.xlsx")
    assert services.data_job_run(job_id=job.pk) == DataJobState.SUCCEEDED
    assert Household.objects.get().address == "幸福路1号"


def test_the_same_upload_twice_is_one_job(coded, staff, settings):
    settings.DATA_JOB_INLINE_ROWS = 0  # stays queued: the double click case
    content = _households_csv(coded["grids"][0].code, 2)
    first = _submit(staff, content)
    second = _submit(staff, content)
    assert first.pk == second.pk
    assert DataJob.objects.count() == 1
    services.data_job_run(job_id=first.pk)
    # After it succeeded, the same bytes are still the same job (not run twice).
    assert _submit(staff, content).pk == first.pk
    # Another user, or other bytes, are another job.
    other = UserFactory(role=UserRole.STREET_STAFF, region=coded["street"])
    assert _submit(other, content).pk != first.pk
    assert _submit(staff, content + b"\n").pk != first.pk


def test_running_a_job_twice_runs_it_once(coded, staff):
    job = _submit(staff, _households_csv(coded["grids"][0].code, 2))
    assert services.data_job_run(job_id=job.pk) == DataJobState.SUCCEEDED
    assert services.data_job_run(job_id=job.pk) is None
    assert Household.objects.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("bulk", [True, False])
def test_progress_is_visible_to_other_sessions_while_the_import_runs(
    monkeypatch, settings, tmp_path, bulk
):
    import dataclasses

    from grids.resources import JOB_RESOURCES

    if not bulk:  # the row-by-row import (residents, roster, regions)
        monkeypatch.setitem(
            JOB_RESOURCES,
            "households",
            dataclasses.replace(JOB_RESOURCES["households"], bulk_import=None),
        )
    settings.DATA_JOBS_DIR = tmp_path / "jobs"
    settings.DATA_JOB_CHUNK_ROWS = 2
    settings.DATA_JOB_INLINE_ROWS = 0
    monkeypatch.setattr(_common, "PROGRESS_EVERY", 2)  # the bulk import's step
    tree = _code(make_tree())
    staff = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    from grids import broker

    monkeypatch.setattr(broker, "enqueue", lambda task, job_id: None)
    job = _submit(staff, _households_csv(tree["grids"][0].code, 5))
    seen = []
    report = datajobs._Progress.report

    def report_and_look(self, **counters):
        report(self, **counters)
        # What another session (the progress page) reads at this moment.
        other = connection.copy()
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT rows_checked, rows_written, state FROM grids_datajob "
                    "WHERE id = %s",
                    [job.pk],
                )
                row = cursor.fetchone()
                cursor.execute("SELECT count(*) FROM grids_household")
                households = cursor.fetchone()[0]
        finally:
            other.close()
        seen.append((*row, households))

    monkeypatch.setattr(datajobs._Progress, "report", report_and_look)
    assert services.data_job_run(job_id=job.pk) == DataJobState.SUCCEEDED
    # rows_total first, then after each chunk of two rows; in bulk, rows
    # checked every two rows read, the refused rows every two rows the service
    # checks, rows written after the chunk written. The households are not
    # visible to others until the whole file is written.
    if bulk:
        during = [
            *[(2, 0, "running", 0), (4, 0, "running", 0), (5, 0, "running", 0)],
            *[(5, 0, "running", 0), (5, 0, "running", 0), (5, 5, "running", 0)],
        ]
    else:
        during = [(2, 2, "running", 0), (4, 4, "running", 0)]
    assert seen == [(0, 0, "running", 0), *during, (5, 5, "running", 0)]
    assert Household.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_racing_makes_one_job(settings, tmp_path, monkeypatch):
    settings.DATA_JOBS_DIR = tmp_path / "jobs"
    settings.DATA_JOB_INLINE_ROWS = 0
    from grids import broker

    monkeypatch.setattr(broker, "enqueue", lambda task, job_id: None)
    tree = _code(make_tree())
    staff = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    content = _households_csv(tree["grids"][0].code, 2)
    barrier = threading.Barrier(2)
    jobs, errors = [], []

    def submit():
        try:
            barrier.wait()
            jobs.append(_submit(staff, content).pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(jobs)) == 1
    assert DataJob.objects.count() == 1
    assert len(list((tmp_path / "jobs").iterdir())) == 1


# --- export -----------------------------------------------------------------


def _export(actor, **kwargs):
    job = services.data_job_export_submit(
        actor=actor, resource="households", language="zh-hans", **kwargs
    )
    services.data_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_export_of_an_area_is_scoped_and_formula_safe(coded, staff):
    grid = coded["grids"][0]
    HouseholdFactory(region=grid, address='=HYPERLINK("http://x","点我")')
    HouseholdFactory(region=coded["grids"][3], address="幸福路2号")
    outside = _code(make_tree(name="外区"), prefix="3702")
    HouseholdFactory(region=outside["grids"][0], address="外区路1号")
    job = _export(staff, region=coded["communities"][0])
    assert job.state == DataJobState.SUCCEEDED
    assert job.rows_written == 1
    sheet = openpyxl.load_workbook(services.data_job_file(job)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("region_code", "address", "household_number", "notes")
    assert rows[1][1] == '\'=HYPERLINK("http://x","点我")'
    assert sheet.cell(row=2, column=2).data_type == "s"
    whole = _export(staff, file_format="csv")
    text = services.data_job_file(whole).read_text(encoding="utf-8-sig")
    assert "幸福路2号" in text and "外区路1号" not in text
    assert whole.rows_written == 2


def test_export_of_an_area_outside_the_scope_is_refused(coded, staff):
    from grids.errors import OutOfScope

    outside = make_tree(name="外区")
    with pytest.raises(OutOfScope):
        services.data_job_export_submit(
            actor=staff, resource="households", region=outside["district"]
        )


# --- cleanup ----------------------------------------------------------------


def test_cleanup_removes_old_files_and_fails_dead_jobs_once(coded, staff, settings):
    HouseholdFactory(region=coded["grids"][0])
    job = _export(staff)
    path = services.data_job_file(job)
    assert path.is_file()
    stuck = _submit(staff, _households_csv(coded["grids"][0].code, 1))
    DataJob.objects.filter(pk=stuck.pk).update(
        state=DataJobState.RUNNING,
        started_at=timezone.now() - timezone.timedelta(days=1),
    )
    later = timezone.now() + timezone.timedelta(
        hours=settings.DATA_JOB_RETENTION_HOURS + 1
    )
    assert services.data_jobs_cleanup(now=later) == {
        "interrupted": 1,
        "files_removed": 1,
    }
    assert not path.exists()
    job.refresh_from_db()
    assert job.files_removed_at is not None
    assert services.data_job_file(job) is None
    stuck.refresh_from_db()
    assert stuck.state == DataJobState.FAILED
    # The interrupted job's upload goes with a later pass.
    even_later = later + timezone.timedelta(hours=settings.DATA_JOB_RETENTION_HOURS + 1)
    assert services.data_jobs_cleanup(now=even_later) == {
        "interrupted": 0,
        "files_removed": 1,
    }
    assert services.data_jobs_cleanup(now=even_later) == {
        "interrupted": 0,
        "files_removed": 0,
    }


# --- pages ------------------------------------------------------------------


def test_upload_page_queues_the_job_and_shows_its_progress(
    client, coded, staff, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    url = reverse("admin:grids_datajob_import")
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "resource": "households",
                "upload": _upload(_households_csv(coded["grids"][0].code, 2)),
            },
        )
    job = DataJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:grids_datajob_change", args=[job.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "grids/datajob_progress.js" in page.content.decode()
    status = client.get(reverse("admin:grids_datajob_status", args=[job.pk])).json()
    assert status["state"] == "succeeded"
    assert status["rows_written"] == 2 and status["percent"] == 100


def test_a_page_shows_the_refused_rows(client, coded, staff):
    job = _submit(staff, _households_csv(coded["grids"][0].code, 3, bad_row=2))
    services.data_job_run(job_id=job.pk)
    client.force_login(staff)
    body = client.get(reverse("admin:grids_datajob_change", args=[job.pk])).content
    assert "您的管辖范围内没有编码为 99999999 的区域。" in body.decode()


def test_another_users_job_is_404_everywhere(client, coded, staff):
    HouseholdFactory(region=coded["grids"][0])
    job = _export(staff)
    colleague = UserFactory(role=UserRole.STREET_STAFF, region=coded["street"])
    client.force_login(colleague)
    for name in ("change", "status", "download"):
        url = reverse(f"admin:grids_datajob_{name}", args=[job.pk])
        assert client.get(url).status_code in (302, 404), name
    assert (
        client.get(reverse("admin:grids_datajob_status", args=[job.pk])).status_code
        == 404
    )
    assert (
        client.get(reverse("admin:grids_datajob_download", args=[job.pk])).status_code
        == 404
    )
    listing = client.get(reverse("admin:grids_datajob_changelist"))
    assert listing.context["cl"].result_count == 0
    client.logout()
    response = client.get(reverse("admin:grids_datajob_download", args=[job.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_submitter_downloads_the_export(client, coded, staff):
    HouseholdFactory(region=coded["grids"][0], address="幸福路9号")
    job = _export(staff, file_format="csv")
    client.force_login(staff)
    response = client.get(reverse("admin:grids_datajob_download", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "幸福路9号" in body


def test_status_page_query_count(client, coded, staff, django_assert_max_num_queries):
    job = _submit(staff, _households_csv(coded["grids"][0].code, 1))
    client.force_login(staff)
    url = reverse("admin:grids_datajob_status", args=[job.pk])
    client.get(url)
    # session, user, its TOTP devices, its scope region, the job
    with django_assert_max_num_queries(5):
        assert client.get(url).status_code == 200


def test_the_export_page_queues_an_export_of_the_chosen_area(client, coded, staff):
    client.force_login(staff)
    url = reverse("admin:grids_datajob_export")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "resource": "residents",
            "region": coded["communities"][1].pk,
            "file_format": "csv",
        },
    )
    job = DataJob.objects.get()
    assert response.status_code == 302
    assert job.kind == DataJobKind.EXPORT and job.region == coded["communities"][1]
    outside = make_tree(name="外区")
    response = client.post(
        url,
        {
            "resource": "residents",
            "region": outside["district"].pk,
            "file_format": "csv",
        },
    )
    assert response.status_code == 200  # a form error: not a choice
    assert DataJob.objects.count() == 1


def test_the_household_list_links_to_the_background_import_and_export(
    client, coded, staff
):
    client.force_login(staff)
    body = client.get(reverse("admin:grids_household_changelist")).content.decode()
    assert f"{reverse('admin:grids_datajob_import')}?resource=households" in body
    assert f"{reverse('admin:grids_datajob_export')}?resource=households" in body
    supervisor = UserFactory(role=UserRole.SUPERVISOR, region=coded["district"])
    client.force_login(supervisor)
    body = client.get(reverse("admin:grids_household_changelist")).content.decode()
    assert reverse("admin:grids_datajob_import") not in body  # may not import
    assert f"{reverse('admin:grids_datajob_export')}?resource=households" in body


def test_a_residents_export_masks_personal_data_as_the_admin_export_does(coded, staff):
    from grids.masking import mask_id_number, mask_phone
    from tests.grids.factories import ResidentFactory

    resident = ResidentFactory(household=HouseholdFactory(region=coded["grids"][0]))
    job = services.data_job_export_submit(
        actor=staff, resource="residents", file_format="csv"
    )
    services.data_job_run(job_id=job.pk)
    job.refresh_from_db()
    text = services.data_job_file(job).read_text(encoding="utf-8-sig")
    assert resident.id_number not in text and resident.phone not in text
    assert mask_id_number(resident.id_number) in text
    assert mask_phone(resident.phone) in text
    assert coded["grids"][0].code in text  # region_code through its dehydrate


def test_statements_per_imported_household_are_bounded(
    coded, staff, django_assert_max_num_queries
):
    """Each region code is looked up once per job; a household row costs its
    lookup, the service's insert and the savepoints around them."""
    codes = [g.code for g in coded["grids"]]
    rows = [f"{codes[n % len(codes)]},幸福路{n}号,H{n}" for n in range(40)]
    job = _submit(staff, ("\n".join([HEADERS, *rows]) + "\n").encode())
    # Per row: the household lookup, the service's two checks and insert, its
    # record-history row, and four savepoint statements (the row's and the
    # service's).
    with django_assert_max_num_queries(40 * 9 + len(codes) + 12) as captured:
        assert services.data_job_run(job_id=job.pk) == DataJobState.SUCCEEDED
    region_lookups = [
        q
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT "grids_region"."id"')
        and '"grids_region"."code" =' in q["sql"]
    ]
    assert len(region_lookups) == len(codes)


# --- personal data in background exports (the rule of every export) ------------


def _resident_in(region):
    from tests.grids.factories import ResidentFactory

    return ResidentFactory(household=HouseholdFactory(region=region))


def test_an_unmasked_job_export_needs_the_role_and_a_reason_and_is_logged(coded, staff):
    from grids.models import PersonalDataAccess

    resident = _resident_in(coded["grids"][0])
    with pytest.raises(DomainError) as refused:
        services.data_job_export_submit(
            actor=staff, resource="residents", file_format="csv", unmasked=True
        )
    assert refused.value.code == "reason_required"
    assert not DataJob.objects.exists()

    job = services.data_job_export_submit(
        actor=staff,
        resource="residents",
        file_format="csv",
        unmasked=True,
        reason="民政核对",
    )
    assert services.data_job_run(job_id=job.pk) == DataJobState.SUCCEEDED
    job.refresh_from_db()
    text = services.data_job_file(job).read_text(encoding="utf-8-sig")
    assert resident.id_number in text
    entry = PersonalDataAccess.objects.get()
    assert (entry.actor, entry.unmasked, entry.row_count, entry.reason) == (
        staff,
        True,
        1,
        "民政核对",
    )


def test_a_supervisor_may_not_queue_an_unmasked_export(coded):
    supervisor = UserFactory(role=UserRole.SUPERVISOR, region=coded["district"])
    _resident_in(coded["grids"][0])
    with pytest.raises(NotAllowed):
        services.data_job_export_submit(
            actor=supervisor,
            resource="residents",
            file_format="csv",
            unmasked=True,
            reason="看看",
        )
    assert not DataJob.objects.exists()


def test_a_large_masked_job_export_needs_a_reason_and_is_logged(coded, staff, settings):
    from grids.models import PersonalDataAccess

    settings.PII_EXPORT_REASON_ROWS = 1
    for _ in range(2):
        _resident_in(coded["grids"][0])
    with pytest.raises(DomainError) as refused:
        services.data_job_export_submit(
            actor=staff, resource="residents", file_format="csv"
        )
    assert refused.value.code == "reason_required"
    job = services.data_job_export_submit(
        actor=staff, resource="residents", file_format="csv", reason="年度统计"
    )
    assert services.data_job_run(job_id=job.pk) == DataJobState.SUCCEEDED
    entry = PersonalDataAccess.objects.get()
    assert (entry.unmasked, entry.row_count) == (False, 2)


# --- the broker down: the job row waits, the sweep sends it again ----------------


def test_enqueue_with_the_broker_down_returns_false_at_once(caplog):
    from celery import Celery

    from grids.broker import enqueue

    app = Celery("broker-down", broker="redis://127.0.0.1:1/0", set_as_current=False)
    app.conf.broker_connection_timeout = 1

    @app.task(name="broker_down.noop")
    def noop(n):  # pragma: no cover - never runs
        return n

    assert enqueue(noop, 1) is False
    assert "Broker unreachable" in caplog.text


def test_a_submit_announces_the_queued_job_through_the_safe_enqueue(
    coded, staff, monkeypatch, django_capture_on_commit_callbacks
):
    from grids import broker

    sent = []
    monkeypatch.setattr(broker, "enqueue", lambda task, *args: sent.append(args))
    grid = coded["grids"][0]
    with django_capture_on_commit_callbacks(execute=True):
        job = _submit(staff, _households_csv(grid.code, 300))
    job.refresh_from_db()
    assert job.state == DataJobState.QUEUED
    assert sent == [(job.pk,)]


def test_the_sweep_sends_again_only_jobs_waiting_too_long(
    coded, staff, settings, django_capture_on_commit_callbacks
):
    grid = coded["grids"][0]
    with django_capture_on_commit_callbacks(execute=False):
        stale = _submit(staff, _households_csv(grid.code, 300))
        fresh = _submit(staff, _households_csv(grid.code, 300, start=1000))
    DataJob.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - timezone.timedelta(minutes=30)
    )
    # Eager tasks in the tests: an announced job runs at once.
    assert services.data_jobs_requeue() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.state == DataJobState.SUCCEEDED
    assert fresh.state == DataJobState.QUEUED
    assert services.data_jobs_requeue() == 0


# --- the households file in bulk (services.households_import) -------------------


@pytest.mark.parametrize("size", [40, 400])
def test_a_bulk_households_import_takes_the_same_statements_for_any_size(
    coded, staff, size, monkeypatch
):
    from django.test.utils import CaptureQueriesContext

    # Progress every 10 rows: its writes go through _Progress's own connection,
    # not the statements counted here.
    monkeypatch.setattr(_common, "PROGRESS_EVERY", 10)
    codes = [g.code for g in coded["grids"]]
    rows = [f"{codes[n % len(codes)]},幸福路{n}号,H{n}" for n in range(size)]
    job = _submit(staff, ("\n".join([HEADERS, *rows]) + "\n").encode())
    with CaptureQueriesContext(connection) as captured:
        assert services.data_job_run(job_id=job.pk) == DataJobState.SUCCEEDED
    # A lookup per code, the existing rows, one INSERT of the households and
    # one of their history, the job's own reads and writes: not a row's worth.
    assert len(captured) <= len(codes) + 20, [q["sql"][:60] for q in captured]
    assert Household.objects.filter(region__in=coded["grids"]).count() == size
    assert Household.history.filter(history_type="+").count() == size


def test_a_bulk_import_updates_the_household_at_an_address_and_merges_repeats(
    coded, staff
):
    grid = coded["grids"][0]
    kept = HouseholdFactory(region=grid, address="幸福路1号", household_number="H1")
    changed = HouseholdFactory(region=grid, address="幸福路2号", household_number="")
    content = (
        f"{HEADERS}\n{grid.code},幸福路1号,H1\n{grid.code},幸福路2号,H2\n"
        f"{grid.code},幸福路3号,H3\n{grid.code},幸福路3号,H3b\n"
    ).encode()
    job = _submit(staff, content)
    services.data_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == DataJobState.SUCCEEDED, job.row_errors
    changed.refresh_from_db()
    assert changed.household_number == "H2"
    assert changed.history.first().history_user == staff
    assert kept.history.count() == 1  # unchanged: not written again
    # A later row of the file updates an earlier one, as row by row.
    assert Household.objects.get(region=grid, address="幸福路3号").household_number == (
        "H3b"
    )


def test_a_bulk_import_applies_the_model_s_rules_and_writes_nothing_on_a_refusal(
    coded, staff
):
    content = (
        f"{HEADERS}\n{coded['grids'][0].code},幸福路1号,H1\n"
        f"{coded['communities'][0].code},幸福路2号,H2\n"
        f"{coded['grids'][1].code},,H3\n"
    ).encode()
    job = services.data_job_import_submit(
        actor=staff, resource="households", upload=_upload(content), language="en"
    )
    services.data_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == DataJobState.FAILED
    assert [e["row"] for e in job.row_errors] == [2, 3]
    assert "grid or a building" in job.row_errors[0]["message"]
    assert job.error_count == 2 and job.rows_written == 0
    assert not Household.objects.exists()


# --- a bulk import's progress while it runs -----------------------------------


def _recording(monkeypatch):
    """The counters every ``_Progress.report`` of the run is given, in order."""
    seen = []
    report = datajobs._Progress.report

    def record(self, **counters):
        seen.append(counters)
        report(self, **counters)

    monkeypatch.setattr(datajobs._Progress, "report", record)
    return seen


def test_a_long_bulk_import_moves_its_counters_before_the_end(
    coded, staff, monkeypatch
):
    codes = [g.code for g in coded["grids"]]
    rows = [f"{codes[n % len(codes)]},幸福路{n}号,H{n}" for n in range(2500)]
    job = _submit(staff, ("\n".join([HEADERS, *rows]) + "\n").encode())
    seen = _recording(monkeypatch)
    assert services.data_job_run(job_id=job.pk) == DataJobState.SUCCEEDED
    assert seen[0] == {"rows_total": 2500}
    checked = [c["rows_checked"] for c in seen if "rows_checked" in c]
    written = [c["rows_written"] for c in seen if "rows_written" in c]
    # After every 500 rows read, the end of the reading, the end of the job; the
    # households written after each chunk of 2,000, then the end of the job.
    assert checked == [500, 1000, 1500, 2000, 2500, 2500]
    assert written == [2000, 2500, 2500]
    assert {c.get("error_count", 0) for c in seen} == {0}
    job.refresh_from_db()
    assert (job.rows_checked, job.rows_written, job.error_count) == (2500, 2500, 0)


def test_the_refused_rows_so_far_move_while_the_file_is_checked(
    coded, staff, monkeypatch
):
    import tablib

    from grids.resources import import_households_in_bulk

    monkeypatch.setattr(_common, "PROGRESS_EVERY", 2)
    grid, community = coded["grids"][0].code, coded["communities"][0].code
    dataset = tablib.Dataset(
        [grid, "幸福路1号", ""],
        ["99999999", "幸福路2号", ""],  # refused as its cells are read
        [grid, "幸福路3号", ""],
        [community, "幸福路4号", ""],  # refused by the service's check
        [grid, "幸福路5号", ""],
        [grid, "", ""],  # refused by the service's check
        [grid, "幸福路7号", ""],
        headers=HEADERS.split(","),
    )
    seen = []
    errors = import_households_in_bulk(
        staff, dataset, progress=lambda **counters: seen.append(counters)
    )
    assert [e["row"] for e in errors] == [2, 4, 6]
    assert seen == [
        # the cells read: after rows 2, 4, 6, then the whole file
        {"checked": 2, "errors": 1},
        {"checked": 4, "errors": 1},
        {"checked": 6, "errors": 1},
        {"checked": 7, "errors": 1},
        # the service's check of the six rows left: after its 2nd and 4th
        {"errors": 1},
        {"errors": 2},
    ]
    assert not Household.objects.exists()


def test_the_job_page_shows_the_counters_of_a_running_import(client, coded, staff):
    job = _submit(staff, _households_csv(coded["grids"][0].code, 3))
    DataJob.objects.filter(pk=job.pk).update(
        state=DataJobState.RUNNING,
        rows_total=12000,
        rows_checked=3000,
        rows_written=0,
        error_count=7,
    )
    client.force_login(staff)
    status = client.get(reverse("admin:grids_datajob_status", args=[job.pk])).json()
    assert (status["rows_checked"], status["rows_total"]) == (3000, 12000)
    assert (status["error_count"], status["percent"]) == (7, 25)
    assert not status["finished"]
    page = client.get(reverse("admin:grids_datajob_change", args=[job.pk]))
    body = page.content.decode()
    assert '<span data-field="rows_checked">3000</span>' in body
    assert '<td data-field="error_count">7</td>' in body
