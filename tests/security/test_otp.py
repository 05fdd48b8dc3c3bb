"""The optional second factor for staff (django-otp, TOTP): staff who enrolled
verify a code before the admin; with STAFF_REQUIRE_OTP staff without a device
enrol first; phone accounts are never asked."""

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from grids.choices import UserRole
from tests.grids.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-for-tests"


def _log_in(client, user):
    response = client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302


def _code(device) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


@pytest.fixture
def enrolled(street_staff):
    return TOTPDevice.objects.create(user=street_staff, name="phone", confirmed=True)


def test_without_a_device_and_not_required_the_admin_opens(client, street_staff):
    _log_in(client, street_staff)
    assert client.get(reverse("admin:index")).status_code == 200


def test_an_enrolled_staff_member_verifies_before_the_admin(
    client, street_staff, enrolled
):
    _log_in(client, street_staff)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp_verify"))
    response = client.post(
        reverse("otp_verify"), {"token": _code(enrolled), "next": "/admin/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_wrong_code_is_refused(client, street_staff, enrolled):
    _log_in(client, street_staff)
    wrong = f"{(int(_code(enrolled)) + 1) % 1000000:06d}"
    response = client.post(reverse("otp_verify"), {"token": wrong})
    assert response.status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_code_is_asked_again_at_the_next_login(client, street_staff, enrolled):
    _log_in(client, street_staff)
    client.post(reverse("otp_verify"), {"token": _code(enrolled)})
    client.post(reverse("logout"))
    _log_in(client, street_staff)
    assert client.get(reverse("admin:index")).status_code == 302


def test_when_required_staff_without_a_device_enrol_first(
    client, street_staff, settings
):
    settings.STAFF_REQUIRE_OTP = True
    _log_in(client, street_staff)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp_setup"))
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=street_staff, confirmed=False)
    response = client.post(reverse("otp_setup"), {"token": _code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("admin:index")).status_code == 200


def test_enrolment_with_a_wrong_code_confirms_nothing(client, street_staff, settings):
    settings.STAFF_REQUIRE_OTP = True
    _log_in(client, street_staff)
    client.get(reverse("otp_setup"))
    device = TOTPDevice.objects.get(user=street_staff)
    wrong = f"{(int(_code(device)) + 1) % 1000000:06d}"
    response = client.post(reverse("otp_setup"), {"token": wrong})
    assert response.status_code == 200
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get(reverse("admin:index")).status_code == 302


def test_phone_accounts_are_never_asked(client, tree, settings):
    settings.STAFF_REQUIRE_OTP = True
    worker = UserFactory(
        role=UserRole.GRID_WORKER, region=tree["grids"][0], is_staff=False
    )
    _log_in(client, worker)
    assert client.get(reverse("home"), follow=True).redirect_chain == [("/m/", 302)]
    assert client.get(reverse("m:home")).status_code == 200
    assert client.get(reverse("otp_setup")).status_code == 403


def test_the_admin_logout_stays_reachable(client, street_staff, enrolled):
    _log_in(client, street_staff)
    response = client.post(reverse("admin:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("home")).status_code == 302
