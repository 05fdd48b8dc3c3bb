"""Street staff open and close the accounts of their own street."""

import pytest
from django.urls import reverse

from grids import services
from grids.choices import UserRole
from grids.errors import DomainError, NotAllowed, OutOfScope
from grids.models import User
from tests.grids.factories import UserFactory

PASSWORD = "Wangge-2026-secure"


def test_street_staff_opens_a_grid_worker_account_who_logs_in_on_the_phone(
    client, tree, street_staff
):
    worker = services.staff_account_create(
        actor=street_staff,
        username="wangge01",
        password=PASSWORD,
        role=UserRole.GRID_WORKER,
        region=tree["grids"][0],
        last_name="王",
        first_name="小网",
    )
    assert (worker.role, worker.is_staff) == (UserRole.GRID_WORKER, False)
    response = client.post(
        reverse("login"), {"username": "wangge01", "password": PASSWORD}, follow=True
    )
    assert "我的工作" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "region_key", "error"),
    [
        (
            UserRole.SUPERVISOR,
            "district",
            NotAllowed,
        ),  # only an administrator makes leaders
        (UserRole.GRID_WORKER, "other", OutOfScope),  # another district's grid
        (
            UserRole.GRID_WORKER,
            "community",
            DomainError,
        ),  # a grid worker's scope is a grid
    ],
)
def test_what_street_staff_may_not_open(
    tree, other_tree, street_staff, role, region_key, error
):
    region = {
        "district": tree["district"],
        "other": other_tree["grids"][0],
        "community": tree["communities"][0],
    }[region_key]
    with pytest.raises(error):
        services.staff_account_create(
            actor=street_staff,
            username="x1",
            password=PASSWORD,
            role=role,
            region=region,
        )
    assert not User.objects.filter(username="x1").exists()


def test_weak_password_and_taken_username_are_refused(tree, street_staff):
    with pytest.raises(DomainError) as exc:
        services.staff_account_create(
            actor=street_staff,
            username="weak",
            password="123",
            role=UserRole.GRID_WORKER,
            region=tree["grids"][0],
        )
    assert exc.value.code == "weak_password"
    with pytest.raises(DomainError):
        services.staff_account_create(
            actor=street_staff,
            username=street_staff.username,
            password=PASSWORD,
            role=UserRole.GRID_WORKER,
            region=tree["grids"][0],
        )


def test_community_staff_and_supervisors_cannot_open_accounts(
    tree, community_staff, supervisor
):
    for actor in (community_staff, supervisor):
        with pytest.raises(NotAllowed):
            services.staff_account_create(
                actor=actor,
                username="y1",
                password=PASSWORD,
                role=UserRole.GRID_WORKER,
                region=tree["grids"][0],
            )


def test_closing_an_account_and_the_limits_of_change(
    tree, other_tree, street_staff, admin_user
):
    worker = UserFactory(
        role=UserRole.GRID_WORKER, region=tree["grids"][0], is_staff=False
    )
    services.staff_account_update(
        actor=street_staff,
        user_id=worker.pk,
        role=worker.role,
        region=worker.region,
        is_active=False,
    )
    worker.refresh_from_db()
    assert not worker.is_active
    outsider = UserFactory(role=UserRole.GRID_WORKER, region=other_tree["grids"][0])
    with pytest.raises(OutOfScope):
        services.staff_account_update(
            actor=street_staff,
            user_id=outsider.pk,
            role=outsider.role,
            region=tree["grids"][0],
            is_active=True,
        )
    with pytest.raises(OutOfScope):  # administrators are out of reach
        services.staff_account_update(
            actor=street_staff,
            user_id=admin_user.pk,
            role=UserRole.GRID_WORKER,
            region=tree["grids"][0],
            is_active=False,
        )
    with pytest.raises(NotAllowed):  # no promoting oneself
        services.staff_account_update(
            actor=street_staff,
            user_id=street_staff.pk,
            role=UserRole.STREET_STAFF,
            region=tree["district"],
            is_active=True,
        )


def test_account_admin_is_scoped_and_creates_through_the_service(
    client, tree, other_tree, street_staff
):
    mine = UserFactory(
        username="mine", role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0]
    )
    theirs = UserFactory(
        username="theirs",
        role=UserRole.COMMUNITY_STAFF,
        region=other_tree["communities"][0],
    )
    client.force_login(street_staff)
    listing = client.get(reverse("admin:grids_user_changelist")).content.decode()
    assert "mine" in listing and "theirs" not in listing
    assert (
        client.get(reverse("admin:grids_user_change", args=[theirs.pk])).status_code
        == 302
    )
    add_page = client.get(reverse("admin:grids_user_add")).content.decode()
    assert 'value="supervisor"' not in add_page and "is_superuser" not in add_page
    response = client.post(
        reverse("admin:grids_user_add"),
        {
            "username": "newworker",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "last_name": "李",
            "first_name": "四",
            "phone": "13900001111",
            "role": UserRole.GRID_WORKER,
            "region": tree["grids"][1].pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(username="newworker")
    assert (created.region, created.is_staff, created.check_password(PASSWORD)) == (
        tree["grids"][1],
        False,
        True,
    )
    assert mine.is_active
