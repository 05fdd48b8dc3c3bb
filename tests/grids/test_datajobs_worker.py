"""A background import run by a real Celery worker process on Redis."""

import os
import uuid

import pytest
from celery.result import EagerResult
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from grids import broker, services, tasks
from grids.choices import DataJobState, UserRole
from grids.models import DataJob, Household
from tests.grids.factories import UserFactory, make_tree
from tests.grids.test_datajobs import _code, _households_csv
from tests.processes import process_env, running, solo_worker_args


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not os.environ.get("REDIS_URL") or connection.vendor != "postgresql",
    reason="needs REDIS_URL and PostgreSQL (the worker shares the test database)",
)
def test_an_import_job_runs_on_a_real_worker(settings, tmp_path, monkeypatch):
    from governance.celery import app

    settings.DATA_JOBS_DIR = tmp_path / "jobs"
    settings.DATA_JOB_INLINE_ROWS = 0
    queued = []
    monkeypatch.setattr(broker, "enqueue", lambda task, job_id: queued.append(job_id))
    tree = _code(make_tree())
    staff = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    job = services.data_job_import_submit(
        actor=staff,
        resource="households",
        upload=SimpleUploadedFile(
            "households.csv", _households_csv(tree["grids"][0].code, 30)
        ),
        language="zh-hans",
    )
    assert queued == [job.pk]  # sent after commit, not run in the request
    queue = f"datajobs-test-{uuid.uuid4().hex[:8]}"
    env = process_env(
        GRIDWORK_VAR_DIR=str(tmp_path),
        DATA_JOBS_DIR=str(settings.DATA_JOBS_DIR),
        REDIS_URL=os.environ["REDIS_URL"],
    )
    args = solo_worker_args(queue)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with running(args, env=env, ready_text="ready.") as (_process, log_path):
            result = tasks.run_data_job.apply_async(args=[job.pk], queue=queue)
            assert not isinstance(result, EagerResult)
            try:
                assert result.get(timeout=120) == DataJobState.SUCCEEDED
            except Exception as exc:
                output = log_path.read_text(errors="replace")
                raise AssertionError(
                    f"worker failed: {exc!r}\n{output[-4000:]}"
                ) from exc
            # Delivered again (a retry, a double send): nothing runs twice.
            again = tasks.run_data_job.apply_async(args=[job.pk], queue=queue)
            assert again.get(timeout=120) is None
    finally:
        app.conf.task_always_eager = eager
    job.refresh_from_db()
    assert (job.state, job.rows_written) == (DataJobState.SUCCEEDED, 30)
    assert Household.objects.count() == 30
    assert DataJob.objects.count() == 1
