"""Faults (issue 9): the database going away during a request, a Celery worker
killed in the middle of an escalation run, Redis down."""

import datetime as dt
import os
import signal
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection
from django.utils import timezone

from tests.processes import BIN, free_port, process_env, running

pytestmark = pytest.mark.django_db(transaction=True)

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL"
)
needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"
)

UNAVAILABLE = "服务暂时不可用"


# --- The database gone during a request ------------------------------------------


@needs_postgresql
def test_a_request_while_the_database_refuses_connections_gets_a_clean_503(
    client, street_staff
):
    client.force_login(street_staff)
    client.raise_request_exception = False
    settings_dict = connection.settings_dict
    port = settings_dict["PORT"]
    connection.close()
    settings_dict["PORT"] = str(free_port())  # nothing listens there
    try:
        response = client.get("/admin/")
        api = client.get("/admin/", HTTP_ACCEPT="application/json")
    finally:
        connection.close()
        settings_dict["PORT"] = port
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert UNAVAILABLE in body and "Traceback" not in body
    assert "OperationalError" not in body and "127.0.0.1" not in body
    assert api.status_code == 503 and api.json()["code"] == "unavailable"
    # The database is back: the same page works again.
    assert client.get("/admin/").status_code == 200


@needs_postgresql
def test_a_connection_killed_in_the_middle_of_a_request_gets_a_clean_503(
    client, street_staff, monkeypatch
):
    """The request's own backend is terminated (pg_terminate_backend from a
    second connection) after the session was read and before the page's next
    query: the page is the 503, not a traceback."""
    from django.db import connections

    from grids import notifications

    client.force_login(street_staff)
    client.raise_request_exception = False
    unread_for = notifications.unread_for
    killed = []

    def terminate_then_read(user):
        # This runs inside the request (the inbox count of the admin page).
        pid = connection.connection.info.backend_pid
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                killed.append(cursor.fetchone()[0])
        finally:
            other.close()
        return unread_for(user)

    monkeypatch.setattr("governance.context_processors.unread_for", terminate_then_read)
    response = client.get("/admin/")
    connection.close()
    assert killed == [True]
    assert response.status_code == 503
    body = response.content.decode()
    assert UNAVAILABLE in body and "Traceback" not in body


def test_an_unexpected_error_is_a_plain_translated_500(client, settings):
    from django.urls import path

    def broken(request):
        raise RuntimeError("a bug")

    settings.ROOT_URLCONF = type(
        "urls",
        (),
        {
            "urlpatterns": [path("broken/", broken)],
            "handler500": "governance.views.server_error",
        },
    )
    client.raise_request_exception = False
    response = client.get("/broken/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "出错" in body and "a bug" not in body and "Traceback" not in body


@needs_postgresql
def test_gunicorn_answers_503_while_the_database_is_unreachable(tmp_path):
    port = free_port()
    env = process_env(
        GRIDWORK_VAR_DIR=str(tmp_path),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/gridwork",
    )
    args = [
        str(BIN / "gunicorn"),
        "governance.wsgi:application",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "1",
    ]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/admin/",
        headers={"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"},
    )
    with running(args, env=env, ready_text="Booting worker"):
        for _attempt in range(100):
            try:
                urllib.request.urlopen(request, timeout=10)
            except urllib.error.HTTPError as error:
                status, body = error.code, error.read().decode()
                headers = error.headers
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer")
    assert status == 503 and headers["Retry-After"] == "30"
    assert UNAVAILABLE in body and "Traceback" not in body


# --- A Celery worker killed in the middle of an escalation run --------------------


def _bulk_overdue(tree, n):
    from tickets.choices import Stage
    from tickets.models import Ticket

    now = timezone.now()
    Ticket.objects.bulk_create(
        [
            Ticket(
                source="patrol",
                description=f"超期{i}",
                region=tree["grids"][i % 4],
                handling_region=tree["communities"][(i % 4) // 2],
                stage=Stage.DISPATCHED,
                received_at=now - dt.timedelta(days=3),
                stage_entered_at=now - dt.timedelta(days=2),
                stage_deadline=now - dt.timedelta(hours=1 + i % 5),
            )
            for i in range(n)
        ]
    )


def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    with open(path) as f:
        return [int(child) for child in f.read().split()]


def _wait_for(condition, *, timeout=180, what=""):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _redis_client(url):
    from celery import Celery

    client = Celery("gridwork-fault-test")
    client.conf.broker_url = url
    client.conf.result_backend = url
    return client


@needs_postgresql
@needs_redis
def test_a_worker_killed_mid_escalation_is_redelivered_and_nothing_is_doubled(
    tmp_path, tree, supervisor, street_staff
):
    """SIGKILL of the pool process running ``tickets.tasks.escalate_overdue`` once
    some batches are committed: acks_late + reject_on_worker_lost put the task
    back on the queue, the worker runs it again, and every overdue ticket ends
    escalated exactly once, with one event and at most one notice per person."""
    from grids.models import Notification
    from tickets.choices import Action
    from tickets.models import Ticket, TicketEvent

    total = 1500
    _bulk_overdue(tree, total)
    queue = f"faults-{os.getpid()}-{time.monotonic_ns()}"
    env = process_env(
        GRIDWORK_VAR_DIR=str(tmp_path),
        REDIS_URL=os.environ["REDIS_URL"],
        TICKETS_ESCALATION_BATCH="10",
    )
    args = [
        str(BIN / "celery"),
        "-A",
        "governance",
        "worker",
        "-P",
        "prefork",
        "-c",
        "1",
        "-Q",
        queue,
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        "--loglevel=INFO",
    ]
    escalated = Ticket.objects.filter(escalation_level__gt=0)
    with running(args, env=env, ready_text="ready.") as (worker, log_path):
        [pool_process] = _children(worker.pid)
        _redis_client(os.environ["REDIS_URL"]).send_task(
            "tickets.tasks.escalate_overdue", queue=queue
        )
        # The middle of the run: some batches committed, not all.
        _wait_for(lambda: escalated.count() >= 50, what="the first batches")
        os.kill(pool_process, signal.SIGKILL)
        at_kill = escalated.count()
        assert 0 < at_kill < total
        # Redelivered to the worker's new pool process, which finishes the run and
        # sends the digest.
        _wait_for(
            lambda: Notification.objects.filter(
                recipient=supervisor, dedupe_key__startswith="escalation:digest:"
            ).exists(),
            what="the rerun's digest",
        )
        log = log_path.read_text(errors="replace")
    assert "WorkerLostError" in log or "SIGKILL" in log, log[-3000:]

    assert escalated.count() == total
    assert set(Ticket.objects.values_list("escalation_level", flat=True)) == {1}
    events = TicketEvent.objects.filter(action=Action.ESCALATE)
    assert events.count() == total
    assert events.values("ticket_id").distinct().count() == total
    # Nobody told twice of the same thing: one digest per supervisor, and the
    # per-ticket messages to the unit's staff are unique per ticket and person.
    assert Notification.objects.filter(recipient=supervisor).count() == 1
    keys = list(
        Notification.objects.values_list("recipient_id", "dedupe_key").exclude(
            dedupe_key=""
        )
    )
    assert len(keys) == len(set(keys))
    # A further run finds nothing left to do.
    from tickets.services import tickets_escalate_overdue

    assert tickets_escalate_overdue() == 0
