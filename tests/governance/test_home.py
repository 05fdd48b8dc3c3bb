"""One login page for everyone: staff land in the admin, grid workers in the
phone app (/m/)."""

from django.urls import reverse


def test_grid_worker_logs_in_and_gets_the_phone_menu(client, grid_worker):
    response = client.post(
        reverse("login"),
        {"username": grid_worker.username, "password": "pass-for-tests"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("m:home")
    page = response.content.decode()
    assert "为居民申报积分" in page
    assert reverse("m:points:propose") in page


def test_staff_land_in_the_admin(client, street_staff):
    client.force_login(street_staff)
    assert client.get(reverse("home")).url == reverse("admin:index")


def test_wrong_password_is_refused_in_chinese(client, grid_worker):
    response = client.post(
        reverse("login"), {"username": grid_worker.username, "password": "wrong"}
    )
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_anonymous_home_goes_to_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
