"""Web requests wait a bounded time for row locks; jobs do not (issue 9, finding
6); a lock wait that runs out is a clear 409, never a 500."""

import json
import threading

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import OperationalError, connection, connections, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from governance.celery import app
from governance.middleware import DatabaseTimeoutsMiddleware
from grids.db import RecordBusy, busy_on_lock_timeout, is_lock_timeout
from grids.models import Region

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="lock_timeout and statement_timeout are PostgreSQL settings",
    ),
]


def _show(name, using="default"):
    with connections[using].cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


def test_a_web_request_gets_the_lock_and_statement_timeouts(
    client, settings, street_staff
):
    settings.WEB_DB_LOCK_TIMEOUT_MS = 3000
    settings.WEB_DB_STATEMENT_TIMEOUT_MS = 30000
    client.force_login(street_staff)
    assert client.get(reverse("admin:index")).status_code == 200
    # The request ran on this test's connection (and transaction).
    assert _show("lock_timeout") == "3s"
    assert _show("statement_timeout") == "30s"


def test_setting_the_timeouts_is_not_a_query_of_the_request(client, street_staff):
    # Connection set-up, like the time zone: query counts pinned by other tests
    # stay what the view does.
    client.force_login(street_staff)
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("admin:index"))
    assert not any("lock_timeout" in q["sql"] for q in ctx.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_a_job_connection_has_no_web_limit(tree):
    seen = {}

    def job():
        try:
            seen["lock"] = _show("lock_timeout")
            seen["statement"] = _show("statement_timeout")
        finally:
            connection.close()

    worker = threading.Thread(target=job)
    worker.start()
    worker.join(timeout=30)
    assert seen == {"lock": "0", "statement": "0"}


def _lock_not_available(region):
    """A real 55P03: another connection holds ``region``'s row, we ask NOWAIT."""
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Region.objects.select_for_update().get(pk=region.pk)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    locker = threading.Thread(target=hold)
    locker.start()
    try:
        assert holding.wait(timeout=30)
        with pytest.raises(OperationalError) as caught, transaction.atomic():
            Region.objects.select_for_update(nowait=True).get(pk=region.pk)
    finally:
        release.set()
        locker.join(timeout=30)
    return caught.value


@pytest.mark.django_db(transaction=True)
def test_a_lock_wait_that_ran_out_reaching_the_view_is_a_409_page(tree):
    error = _lock_not_available(tree["street"])
    assert is_lock_timeout(error)
    middleware = DatabaseTimeoutsMiddleware(lambda request: None)
    request = RequestFactory().get("/party/wishes/")
    request.user = AnonymousUser()
    with translation.override("zh-hans"):
        response = middleware.process_exception(request, error)
    assert response.status_code == 409
    assert response["Retry-After"] == "3"
    assert "正在被他人修改" in response.content.decode()
    # The API gets the DomainError body.
    api = RequestFactory().post(
        "/api/tickets/1/accept/", HTTP_ACCEPT="application/json"
    )
    api.user = AnonymousUser()
    body = json.loads(middleware.process_exception(api, error).content)
    assert body["code"] == "busy"
    # Any other database error is not ours to hide.
    assert middleware.process_exception(request, OperationalError("gone")) is None


@pytest.mark.django_db(transaction=True)
def test_busy_on_lock_timeout_turns_the_wait_into_a_domain_error(tree):
    error = _lock_not_available(tree["street"])
    with pytest.raises(RecordBusy) as busy, busy_on_lock_timeout():
        raise error
    assert busy.value.status == 409 and busy.value.__cause__ is error
    with pytest.raises(OperationalError), busy_on_lock_timeout():
        raise OperationalError("server closed the connection")


def test_celery_acknowledges_a_task_only_when_it_finished(settings):
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
    if settings.REDIS_URL:
        # A running task is never handed to a second worker: it is stopped first.
        assert visibility > conf.task_time_limit > conf.task_soft_time_limit


@pytest.mark.django_db(transaction=True)
def test_the_timeouts_are_set_once_a_connection_not_once_a_request(
    client, settings, street_staff, monkeypatch
):
    """Outside a transaction the limits are committed with the connection's
    session: the next request on it needs no second round trip for them; a new
    connection or other limits get them again."""
    import grids.db

    settings.WEB_DB_LOCK_TIMEOUT_MS = 3000
    settings.WEB_DB_STATEMENT_TIMEOUT_MS = 30000
    calls = []
    real = grids.db._set_timeouts
    monkeypatch.setattr(
        grids.db, "_set_timeouts", lambda conn: calls.append(1) or real(conn)
    )
    client.force_login(street_staff)
    url = reverse("admin:index")
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    assert len(calls) == 1
    assert (_show("lock_timeout"), _show("statement_timeout")) == ("3s", "30s")

    settings.WEB_DB_STATEMENT_TIMEOUT_MS = 20000
    assert client.get(url).status_code == 200
    assert len(calls) == 2
    assert _show("statement_timeout") == "20s"

    connection.close()
    assert client.get(url).status_code == 200
    assert len(calls) == 3
    assert _show("statement_timeout") == "20s"


@pytest.mark.django_db(transaction=True)
def test_timeouts_set_inside_a_transaction_are_set_again(tree, monkeypatch):
    """Set by a first statement inside a transaction, the limits go with a
    rollback: they are not taken as the connection's."""
    import grids.db

    calls = []
    real = grids.db._set_timeouts
    monkeypatch.setattr(
        grids.db, "_set_timeouts", lambda conn: calls.append(1) or real(conn)
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        with grids.db.web_timeouts_for_request():
            Region.objects.count()
        raise RuntimeError("rolled back")
    with grids.db.web_timeouts_for_request():
        Region.objects.count()
    assert len(calls) == 2
    assert _show("statement_timeout") != "0"
