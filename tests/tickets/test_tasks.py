import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery.result import EagerResult
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tests.tickets.factories import walk_to
from tickets import tasks
from tickets.choices import Action, Stage
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]


def test_tasks_call_the_services_eagerly(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    Ticket.objects.filter(pk=ticket.pk).update(
        stage_deadline=timezone.now() - dt.timedelta(minutes=5)
    )
    assert tasks.escalate_overdue.delay().get() == 1
    assert tasks.escalate_overdue.delay().get() == 0
    assert tasks.send_reminders.delay().get() == 0
    assert tasks.mark_unevaluated.delay().get() == 0


def test_schedules_name_real_tasks():
    from governance.celery import app
    from tickets.schedules import PERIODIC_TASKS

    app.loader.import_default_modules()
    for entry in PERIODIC_TASKS:
        assert entry["task"] in app.tasks


def _database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not os.environ.get("REDIS_URL") or connection.vendor != "postgresql",
    reason="needs REDIS_URL and PostgreSQL (the worker shares the test database)",
)
def test_escalation_through_a_real_worker_on_redis(lifecycle, tmp_path):
    from governance.celery import app

    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    Ticket.objects.filter(pk=ticket.pk).update(
        stage_deadline=timezone.now() - dt.timedelta(minutes=5)
    )
    queue = f"tickets-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "governance",
            "worker",
            "-P",
            "solo",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-Q",
            queue,
            "--loglevel",
            "WARNING",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        try:
            first = tasks.escalate_overdue.apply_async(queue=queue)
            assert not isinstance(first, EagerResult)  # really sent to the worker
            assert first.get(timeout=60) == 1
            second = tasks.escalate_overdue.apply_async(queue=queue)
            assert second.get(timeout=60) == 0
        except Exception as exc:
            log.flush()
            output = (tmp_path / "worker.log").read_text(errors="replace")
            raise AssertionError(f"worker failed: {exc!r}\n{output[-4000:]}") from exc
    finally:
        app.conf.task_always_eager = eager
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1
    assert ticket.events.filter(action=Action.ESCALATE).count() == 1
