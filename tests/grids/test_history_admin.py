"""The History pages of the admin (grids.admin_mixins.HistoryAdminMixin): scoped
like the rest of the admin, read-only for everyone, no personal data."""

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from simple_history.middleware import HistoryRequestMiddleware

from grids import services
from grids.models import Household, Resident
from tests.grids.factories import HouseholdFactory, UserFactory, next_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident(tree, street_staff):
    household = services.household_create(
        actor=street_staff, region=tree["grids"][0], address="幸福路1号"
    )
    resident = services.resident_create(
        actor=street_staff,
        household=household,
        name="张三",
        id_number=next_id_number(),
        phone="13812345678",
    )
    return services.resident_update(
        actor=street_staff, resident_id=resident.pk, name="张三丰"
    )


@pytest.fixture
def outside_resident(other_tree):
    admin_user = UserFactory(role="", region=None, is_superuser=True)
    household = services.household_create(
        actor=admin_user, region=other_tree["grids"][0], address="外区路1号"
    )
    return services.resident_create(
        actor=admin_user,
        household=household,
        name="外区居民",
        id_number=next_id_number(),
    )


def _history_url(obj):
    return reverse(f"admin:grids_{obj._meta.model_name}_history", args=[obj.pk])


def _version_url(obj, version_id):
    return reverse(
        f"admin:grids_{obj._meta.model_name}_simple_history",
        args=[obj.pk, version_id],
    )


def test_the_change_page_links_to_the_history(client, street_staff, resident):
    client.force_login(street_staff)
    page = client.get(reverse("admin:grids_resident_change", args=[resident.pk]))
    assert _history_url(resident) in page.content.decode()


def test_history_lists_who_changed_what_without_personal_data(
    client, street_staff, resident
):
    client.force_login(street_staff)
    response = client.get(_history_url(resident))
    assert response.status_code == 200
    body = response.content.decode()
    assert "张三丰" in body
    assert str(street_staff) in body
    assert resident.id_number not in body
    assert resident.phone not in body
    assert "revert" not in body.lower()


def test_a_version_opens_read_only(client, street_staff, resident):
    client.force_login(street_staff)
    first = resident.history.earliest()
    response = client.get(_version_url(resident, first.history_id))
    assert response.status_code == 200
    body = response.content.decode()
    main = body.split('id="content-main"')[1]
    assert "张三" in main and "张三丰" not in main  # the name it had then
    assert resident.id_number not in body
    assert resident.phone not in body
    assert 'type="submit"' not in body.split('id="content-main"')[1]


def test_revert_is_refused(client, street_staff, resident):
    client.force_login(street_staff)
    first = resident.history.earliest()
    rows = Resident.history.count()
    response = client.post(
        _version_url(resident, first.history_id),
        {"name": "张三", "household": resident.household_id},
    )
    assert response.status_code == 403
    resident.refresh_from_db()
    assert resident.name == "张三丰"
    assert Resident.history.count() == rows


def test_even_an_administrator_cannot_revert(client, admin_user, resident):
    client.force_login(admin_user)
    first = resident.history.earliest()
    response = client.post(_version_url(resident, first.history_id), {"name": "x"})
    assert response.status_code == 403
    resident.refresh_from_db()
    assert resident.name == "张三丰"


def test_history_outside_the_scope_is_404(client, street_staff, outside_resident):
    client.force_login(street_staff)
    version = outside_resident.history.latest()
    assert client.get(_history_url(outside_resident)).status_code == 404
    assert (
        client.get(_version_url(outside_resident, version.history_id)).status_code
        == 404
    )
    assert (
        client.post(_version_url(outside_resident, version.history_id)).status_code
        == 404
    )


def test_an_outside_account_history_is_404(client, street_staff, other_tree):
    outsider = UserFactory(region=other_tree["street"])
    client.force_login(street_staff)
    assert client.get(_history_url(outsider)).status_code == 404
    version = outsider.history.latest()
    assert client.get(_version_url(outsider, version.history_id)).status_code == 404


def test_a_version_of_another_record_is_404(
    client, street_staff, resident, outside_resident
):
    """The version id must belong to the record in the path."""
    client.force_login(street_staff)
    theirs = outside_resident.history.latest()
    assert client.get(_version_url(resident, theirs.history_id)).status_code == 404


@pytest.mark.parametrize(
    ("object_id", "version_id"),
    [("abc", "1"), (None, "abc"), (None, "9" * 30), ("9" * 30, "1")],
)
def test_malformed_ids_are_404(client, street_staff, resident, object_id, version_id):
    client.force_login(street_staff)
    url = reverse(
        "admin:grids_resident_simple_history",
        args=[object_id or resident.pk, version_id],
    )
    assert client.get(url).status_code == 404
    assert (
        client.get(f"/admin/grids/resident/{object_id or 'x'}/history/").status_code
        == 404
    )


def test_the_request_user_is_named_when_no_service_names_one(tree, street_staff):
    """Saves outside a service (none today in the web code) still name the
    signed-in user, through simple-history's middleware."""
    middleware = settings.MIDDLEWARE
    assert middleware.index(
        "simple_history.middleware.HistoryRequestMiddleware"
    ) > middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    household = HouseholdFactory(region=tree["grids"][0])

    def view(request):
        Household.objects.get(pk=household.pk).save()
        return HttpResponse()

    request = RequestFactory().post("/")
    request.user = street_staff
    HistoryRequestMiddleware(view)(request)
    assert household.history.latest().history_user == street_staff
