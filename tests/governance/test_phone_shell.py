"""The phone app's shell (/m/): home counts, login and logout, the service
worker, the offline page, and / sending each kind of account to its place."""

import pytest
from django.urls import reverse
from django.utils import timezone

from grids.choices import PatrolKind
from tests.grids.factories import PatrolFactory
from tests.tickets.factories import walk_to
from tickets.choices import Stage

pytestmark = pytest.mark.django_db


def test_root_sends_grid_workers_to_the_phone_app(client, grid_worker):
    client.force_login(grid_worker)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("m:home")


def test_root_sends_staff_to_the_admin(client, street_staff):
    street_staff.is_staff = True
    street_staff.save()
    client.force_login(street_staff)
    assert client.get("/")["Location"] == reverse("admin:index")


def test_phone_pages_send_an_anonymous_visitor_to_the_phone_login(client):
    response = client.get(reverse("m:tickets:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("m:login") + "?next=")


def test_phone_login_logs_a_grid_worker_in_and_lands_on_home(client, grid_worker):
    grid_worker.set_password("pass-for-tests")
    grid_worker.save()
    page = client.get(reverse("m:login"))
    assert page.status_code == 200
    assert b"data-login-page" in page.content
    response = client.post(
        reverse("m:login"),
        {"username": grid_worker.username, "password": "pass-for-tests"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("m:home")
    assert client.get(reverse("m:home")).status_code == 200


def test_phone_login_refuses_a_wrong_password(client, grid_worker):
    response = client.post(
        reverse("m:login"), {"username": grid_worker.username, "password": "wrong"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_and_ends_the_session(client, grid_worker):
    client.force_login(grid_worker)
    response = client.post(reverse("m:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_home_counts_my_work(client, lifecycle, tree):
    handler = lifecycle["handler"]
    walk_to(Stage.ACCEPTED, **lifecycle)
    walk_to(Stage.DISPATCHED, **lifecycle)
    PatrolFactory(
        worker=handler,
        region=tree["grids"][0],
        kind=PatrolKind.PATROL,
        occurred_at=timezone.now(),
    )
    client.force_login(handler)
    response = client.get(reverse("m:home"))
    assert response.status_code == 200
    counts = dict(response.context["tickets"]["by_stage"])
    assert counts[Stage.ACCEPTED] == 1
    assert counts[Stage.DISPATCHED] == 1
    assert response.context["patrolled_today"] is True


def test_home_says_when_no_patrol_was_recorded_today(client, grid_worker):
    client.force_login(grid_worker)
    response = client.get(reverse("m:home"))
    assert response.context["patrolled_today"] is False
    assert response.context["tickets"]["overdue"] == 0


@pytest.mark.parametrize("tickets", [3, 30])
def test_home_query_count_does_not_grow_with_tickets(
    client, lifecycle, django_assert_max_num_queries, tickets
):
    for _ in range(tickets):
        walk_to(Stage.RECEIVED, **lifecycle)
    client.force_login(lifecycle["handler"])
    with django_assert_max_num_queries(8):
        assert client.get(reverse("m:home")).status_code == 200


def test_service_worker_is_served_from_m_with_its_shell(client):
    response = client.get(reverse("m:service_worker"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    assert "/static/m/m.js" in body and reverse("m:offline") in body
    assert "no-cache" in response["Cache-Control"]


def test_offline_page_needs_no_login(client):
    assert client.get(reverse("m:offline")).status_code == 200
