"""Faults (issue 9): the database going away during a request, a Celery worker
killed in the middle of an escalation run, Redis down."""

import datetime as dt
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import kombu.exceptions
import pytest
from django.db import connection
from django.utils import timezone

from tests.processes import BIN, free_port, process_env, running, solo_worker_args

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
    unread_count = notifications.unread_count
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
        return unread_count(user)

    monkeypatch.setattr(
        "governance.context_processors.unread_count", terminate_then_read
    )
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


def _redis_client(url, *, results=True):
    from celery import Celery

    client = Celery("gridwork-fault-test", set_as_current=False)
    client.conf.broker_url = url
    client.conf.result_backend = url if results else None
    return client


def test_a_fault_test_client_leaves_the_project_app_current():
    """The clients these tests build for their throwaway Redis servers must not
    become Celery's current app: the project's tasks (``shared_task``) would then
    send to a server a fault test has stopped, and a later test on the same
    xdist worker would fail on "Connection refused" (seen in CI once the slow
    modules were run first)."""
    from celery import current_app

    from governance.celery import app

    _redis_client("redis://127.0.0.1:1/0")
    assert current_app._get_current_object() is app


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


@needs_postgresql
@needs_redis
def test_a_whole_worker_killed_mid_escalation_leaves_the_task_to_the_next_worker(
    tmp_path, tree, supervisor
):
    """The worker itself SIGKILLed (solo pool: the task runs in it), as when a
    container is killed: its unacknowledged task stays with Redis, and a worker
    started afterwards gets it back once the visibility timeout has passed and
    finishes the run; every overdue ticket escalated exactly once."""
    from grids.models import Notification
    from tickets.choices import Action
    from tickets.models import Ticket, TicketEvent

    total = 300
    _bulk_overdue(tree, total)
    queue = f"faults-{os.getpid()}-{time.monotonic_ns()}"
    env = process_env(
        GRIDWORK_VAR_DIR=str(tmp_path),
        REDIS_URL=os.environ["REDIS_URL"],
        TICKETS_ESCALATION_BATCH="5",
        # Short, so that the test need not wait two hours for the redelivery,
        # and swept every second (tests/worker_settings.py), not every 100 s.
        DJANGO_SETTINGS_MODULE="tests.worker_settings",
        CELERY_VISIBILITY_TIMEOUT="8",
        CELERY_TASK_SOFT_TIME_LIMIT="6",
        CELERY_TASK_TIME_LIMIT="7",
    )
    args = solo_worker_args(queue)
    escalated = Ticket.objects.filter(escalation_level__gt=0)
    with running(args, env=env, ready_text="ready.") as (worker, _log):
        _redis_client(os.environ["REDIS_URL"], results=False).send_task(
            "tickets.tasks.escalate_overdue", queue=queue
        )
        _wait_for(lambda: escalated.count() >= 20, what="the first batches")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    at_kill = escalated.count()
    assert 0 < at_kill < total
    with running(args, env=env, ready_text="ready."):
        _wait_for(
            lambda: (
                Notification.objects.filter(
                    recipient=supervisor, dedupe_key__startswith="escalation:digest:"
                ).exists()
                and escalated.count() == total
            ),
            what="the redelivered run to finish",
        )
    assert set(Ticket.objects.values_list("escalation_level", flat=True)) == {1}
    events = TicketEvent.objects.filter(action=Action.ESCALATE)
    assert events.count() == total
    assert events.values("ticket_id").distinct().count() == total
    keys = list(
        Notification.objects.values_list("recipient_id", "dedupe_key").exclude(
            dedupe_key=""
        )
    )
    assert len(keys) == len(set(keys))


# --- Redis down ---------------------------------------------------------------------


class _Browser:
    """A cookie-keeping HTTP client that sends Django's CSRF token back."""

    def __init__(self, base):
        import http.cookiejar

        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar)
        )

    def _csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, path):
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.status, response.read().decode()

    def post(self, path, data):
        import urllib.parse

        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self._csrf()})
        request = urllib.request.Request(
            self.base + path,
            data=body.encode(),
            headers={"Referer": self.base + path},
        )
        with self.opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()


def _wait_for_answer(browser, path):
    for _attempt in range(100):
        try:
            return browser.get(path)
        except urllib.error.URLError:
            time.sleep(0.1)
    pytest.fail("gunicorn did not answer")


@needs_postgresql
def test_pages_and_their_side_effects_work_while_redis_is_down(tmp_path, tree):
    """No request waits on the broker: with REDIS_URL at a port where nothing
    listens (and Celery not eager), staff log in, open the admin and accept a
    ticket; the accept's after-commit notice reaches the handler."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.urls import reverse

    from grids.choices import UserRole
    from grids.models import Notification
    from tests.grids.factories import UserFactory
    from tests.tickets.factories import (
        CategoryFactory,
        DepartmentFactory,
        handler_for,
        walk_to,
    )
    from tickets.choices import Action, Stage
    from tickets.models import Ticket

    people = {
        "tree": tree,
        "street_staff": UserFactory(role=UserRole.STREET_STAFF, region=tree["street"]),
        "community_staff": UserFactory(
            role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0]
        ),
        "handler": handler_for(tree, 0),
        "category": CategoryFactory(default_department=DepartmentFactory()),
    }
    ticket = walk_to(Stage.DISPATCHED, **people)
    # The server runs the production hashers, not the tests' fast MD5.
    staff = people["community_staff"]
    staff.password = PBKDF2PasswordHasher().encode("pass-for-tests", "faultsalt")
    staff.save(update_fields=["password"])
    port = free_port()
    env = process_env(
        GRIDWORK_VAR_DIR=str(tmp_path),
        ALLOWED_HOSTS="127.0.0.1",
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        # Plain HTTP on the loopback: the cookies may not be Secure-only here.
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
    )
    args = [
        str(BIN / "gunicorn"),
        "governance.wsgi:application",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "1",
    ]
    browser = _Browser(f"http://127.0.0.1:{port}")
    with running(args, env=env, ready_text="Booting worker"):
        status, _page = _wait_for_answer(browser, "/accounts/login/")
        assert status == 200
        status, page = browser.post(
            "/accounts/login/",
            {
                "username": people["community_staff"].username,
                "password": "pass-for-tests",
            },
        )
        assert status == 200 and "errornote" not in page, page[:3000]
        assert "<title>登录" not in page, page[-5000:]
        status, page = browser.get("/admin/")
        assert status == 200 and "<title>站点管理" in page
        status, page = browser.post(
            reverse("admin:tickets_ticket_action", args=[ticket.pk, Action.ACCEPT]),
            {"accept-handler": people["handler"].pk, "accept-note": "马上去"},
        )
        assert status == 200, page
    ticket.refresh_from_db()
    assert ticket.stage == Stage.ACCEPTED, page[-3000:]
    assert ticket.stage == Stage.ACCEPTED
    assert ticket.events.filter(action=Action.ACCEPT).count() == 1
    assert Notification.objects.filter(recipient=people["handler"]).exists()
    assert Ticket.objects.count() == 1


@pytest.fixture
def own_redis():
    """A Redis server of this test's own on a free port (no persistence), which
    the test may stop and start again; never the shared one."""
    import shutil

    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server")
    port = free_port()
    processes = []

    def start():
        process = subprocess.Popen(
            [
                "redis-server",
                *("--port", str(port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        import redis

        client = redis.Redis(port=port, socket_connect_timeout=1)
        _wait_for(lambda: _pings(client), timeout=30, what="redis-server")
        return process

    def stop():
        process = processes[-1]
        process.terminate()
        process.wait(timeout=30)

    yield port, start, stop
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def _pings(client) -> bool:
    import redis

    try:
        return client.ping()
    except redis.ConnectionError:
        return False


@needs_postgresql
def test_jobs_wait_out_a_redis_outage_and_nothing_is_lost(tmp_path, tree, own_redis):
    """A worker whose Redis goes away keeps running and reconnects when it is
    back; the escalation job then escalates every ticket that fell overdue during
    the outage (the jobs are set-based: a tick missed is caught up, not lost)."""
    from tickets.models import Ticket

    port, start, stop = own_redis
    url = f"redis://127.0.0.1:{port}/0"
    start()
    queue = f"faults-{os.getpid()}-{time.monotonic_ns()}"
    env = process_env(GRIDWORK_VAR_DIR=str(tmp_path), REDIS_URL=url)
    args = solo_worker_args(queue)
    with running(args, env=env, ready_text="ready.") as (worker, log_path):
        stop()
        _wait_for(
            lambda: "Connection to broker lost" in log_path.read_text(errors="replace"),
            timeout=60,
            what="the worker to notice the outage",
        )
        # While Redis is down, tickets fall overdue and nobody can enqueue.
        _bulk_overdue(tree, 30)
        with pytest.raises(kombu.exceptions.OperationalError):
            client = _redis_client(url, results=False)
            client.conf.broker_connection_retry = False
            client.conf.broker_connection_max_retries = 0
            client.send_task("tickets.tasks.escalate_overdue", queue=queue, retry=False)
        assert worker.poll() is None  # the worker waits, it did not die
        start()
        _wait_for(
            lambda: (
                log_path.read_text(errors="replace").count("Connected to redis") >= 2
            ),
            timeout=120,
            what="the worker to reconnect",
        )
        result = _redis_client(url).send_task(
            "tickets.tasks.escalate_overdue", queue=queue
        )
        assert result.get(timeout=120) == 30
    assert set(Ticket.objects.values_list("escalation_level", flat=True)) == {1}


def test_no_app_code_enqueues_a_celery_task_from_a_request():
    """The Redis-down promise holds because nothing outside the periodic jobs
    talks to the broker except ``grids.broker.enqueue``, which sends once,
    never raises, and is only called for work already recorded in the database
    (a periodic sweep sends it again). Code that enqueues (``.delay``,
    ``.apply_async``, ``send_task``) must go through it."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    enqueue = re.compile(r"\.(delay|apply_async|send_task)\(")
    found = [
        f"{path.relative_to(root)}:{number}"
        for app in ("grids", "tickets", "points", "partyorg", "governance")
        for path in sorted((root / app).rglob("*.py"))
        if "migrations" not in path.parts and path != root / "grids" / "broker.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if enqueue.search(line)
    ]
    assert found == []
