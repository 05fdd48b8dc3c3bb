"""Failed logins lock a username from one address out (django-axes); street
staff lift the lock; closed accounts cannot log in and keep their history."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from grids import services
from grids.choices import UserRole
from grids.errors import NotAllowed, OutOfScope
from grids.models import User
from tests.grids.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-for-tests"
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


def _login(client, username, password, *, url=LOGIN, ip="10.0.0.1"):
    return client.post(
        url,
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )


def _logged_in(client) -> bool:
    return SESSION_KEY in client.session


def _fail(client, username, times, **kwargs):
    for _ in range(times):
        response = _login(client, username, "wrong-password", **kwargs)
    return response


@pytest.fixture
def worker(tree):
    return UserFactory(
        role=UserRole.GRID_WORKER, region=tree["grids"][0], is_staff=False
    )


def test_a_right_password_logs_in(client, worker):
    response = _login(client, worker.username, PASSWORD)
    assert response.status_code == 302
    assert _logged_in(client)


def test_five_wrong_passwords_lock_and_the_right_one_is_then_refused(client, worker):
    response = _fail(client, worker.username, 5)
    assert response.status_code == 429
    response = _login(client, worker.username, PASSWORD)
    assert response.status_code == 429
    assert not _logged_in(client)
    body = response.content.decode()
    assert "登录已锁定" in body
    assert "30" in body  # minutes


def test_four_wrong_passwords_do_not_lock(client, worker):
    response = _fail(client, worker.username, 4)
    assert response.status_code == 200
    assert _login(client, worker.username, PASSWORD).status_code == 302
    assert _logged_in(client)


def test_the_admin_login_counts_and_locks_the_same_way(client, street_staff):
    assert _fail(client, street_staff.username, 5, url=ADMIN_LOGIN).status_code == 429
    response = _login(client, street_staff.username, PASSWORD)
    assert response.status_code == 429
    assert not _logged_in(client)


def test_other_users_and_other_addresses_are_not_locked(client, worker, tree):
    other = UserFactory(
        role=UserRole.GRID_WORKER, region=tree["grids"][1], is_staff=False
    )
    _fail(client, worker.username, 5)
    assert _login(client, other.username, PASSWORD).status_code == 302
    client.logout()
    # The same username from another phone is not locked either: the lock is
    # per username and address, so nobody can lock a colleague out from afar.
    assert _login(client, worker.username, PASSWORD, ip="10.0.0.2").status_code == 302


def test_the_lock_ends_thirty_minutes_after_the_last_try(client, worker):
    _fail(client, worker.username, 5)
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        assert _login(client, worker.username, PASSWORD).status_code == 302


def test_a_try_while_locked_starts_the_thirty_minutes_again(client, worker):
    start = timezone.now()
    _fail(client, worker.username, 5)
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert _login(client, worker.username, PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert _login(client, worker.username, PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=62), tick=False):
        assert _login(client, worker.username, PASSWORD).status_code == 302


def test_street_staff_unlock_an_account_of_their_street(client, worker, street_staff):
    _fail(client, worker.username, 5)
    lifted = services.staff_account_unlock(actor=street_staff, user_id=worker.pk)
    assert lifted == 1
    assert _login(client, worker.username, PASSWORD).status_code == 302


def test_unlock_from_the_admin_action(client, worker, street_staff):
    _fail(client, worker.username, 5)
    staff_client = client.__class__()
    staff_client.force_login(street_staff)
    response = staff_client.post(
        reverse("admin:grids_user_changelist"),
        {"action": "unlock_login", "_selected_action": [worker.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "已解锁 1 个账号" in response.content.decode()
    assert _login(client, worker.username, PASSWORD).status_code == 302


def test_community_staff_may_not_unlock(community_staff, worker):
    with pytest.raises(NotAllowed):
        services.staff_account_unlock(actor=community_staff, user_id=worker.pk)


def test_street_staff_may_not_unlock_outside_their_street(street_staff, other_tree):
    outsider = UserFactory(role=UserRole.GRID_WORKER, region=other_tree["grids"][0])
    with pytest.raises(OutOfScope):
        services.staff_account_unlock(actor=street_staff, user_id=outsider.pk)


def test_street_staff_may_not_unlock_an_administrator(street_staff, admin_user):
    with pytest.raises(OutOfScope):
        services.staff_account_unlock(actor=street_staff, user_id=admin_user.pk)


def test_a_closed_account_cannot_log_in_and_keeps_its_row(client, worker, street_staff):
    services.staff_account_update(
        actor=street_staff,
        user_id=worker.pk,
        role=worker.role,
        region=worker.region,
        is_active=False,
        last_name=worker.last_name,
        first_name=worker.first_name,
    )
    response = _login(client, worker.username, PASSWORD)
    assert response.status_code == 200
    assert not _logged_in(client)
    assert User.objects.filter(pk=worker.pk, is_active=False).exists()


def test_closing_an_account_ends_its_open_session(client, worker, street_staff):
    assert _login(client, worker.username, PASSWORD).status_code == 302
    assert client.get(reverse("m:home")).status_code == 200
    services.staff_account_update(
        actor=street_staff,
        user_id=worker.pk,
        role=worker.role,
        region=worker.region,
        is_active=False,
    )
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_phone_login_counts_and_locks_the_same_way(client, worker):
    assert _fail(client, worker.username, 5, url="/m/login/").status_code == 429
    response = _login(client, worker.username, PASSWORD, url="/m/login/")
    assert response.status_code == 429
    assert not _logged_in(client)
