"""Faults (issue 9): the database going away during a request, a Celery worker
killed in the middle of an escalation run, Redis down."""

import os
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection

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
