"""Sessions end when idle (phones are shared) and, for staff, after a working
day (governance.middleware_security.SessionTimeoutMiddleware)."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from grids.choices import UserRole
from tests.grids.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-for-tests"


@pytest.fixture
def worker(tree):
    return UserFactory(
        role=UserRole.GRID_WORKER, region=tree["grids"][0], is_staff=False
    )


def _log_in(client, user):
    response = client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302


def _sent_to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        reverse("login")
    )


def test_a_phone_session_idle_for_31_minutes_ends(client, worker):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, worker)
        assert client.get(reverse("m:home")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = client.get(reverse("home"))
        assert _sent_to_login(response)
        assert "next=/" in response["Location"]
        page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert "会话已结束" in page.content.decode()
        # Logged out for good, not just redirected once.
        assert _sent_to_login(client.get(reverse("home")))


def test_a_phone_session_used_every_20_minutes_stays_open(client, worker):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, worker)
    for step in range(1, 7):  # two hours of use
        with time_machine.travel(start + timedelta(minutes=20 * step), tick=False):
            assert client.get(reverse("m:home")).status_code == 200


def test_a_staff_session_ends_after_eight_hours_however_busy(client, street_staff):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, street_staff)
    for step in range(1, 8):  # seven hours, a request every hour
        with time_machine.travel(start + timedelta(hours=step), tick=False):
            assert client.get(reverse("admin:index")).status_code == 200
    with time_machine.travel(start + timedelta(hours=8, minutes=1), tick=False):
        assert _sent_to_login(client.get(reverse("admin:index")))


def test_staff_are_not_held_to_the_phone_idle_timeout(client, street_staff):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, street_staff)
    with time_machine.travel(start + timedelta(minutes=45), tick=False):
        assert client.get(reverse("admin:index")).status_code == 200


def test_a_post_after_the_timeout_is_not_carried_out(client, worker):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, worker)
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = client.post(reverse("logout"))
        assert _sent_to_login(response)
        assert "next=" not in response["Location"]


def test_a_session_made_before_the_clocks_gets_them_on_its_next_request(client, worker):
    client.force_login(worker)  # no login signal with a request: no clocks yet
    assert client.get(reverse("m:home")).status_code == 200
    assert "gw_login_at" in client.session
