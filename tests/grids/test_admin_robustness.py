"""Wrong, missing and hostile input to the grids admin pages: a clear answer,
never a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from grids.models import Household, Notification
from grids.notifications import notify


@pytest.mark.parametrize(
    "query",
    [
        "?level=nonsense",
        "?full_time=maybe",
        "?q=%00%ff",
        "?o=99",
        "?region__id__exact=abc",
    ],
)
def test_changelists_survive_odd_query_strings(client, street_staff, query):
    client.force_login(street_staff)
    for name in (
        "grids_region_changelist",
        "grids_household_changelist",
        "grids_resident_changelist",
    ):
        response = client.get(reverse(f"admin:{name}") + query)
        assert response.status_code in (200, 302), (name, query)


def test_change_view_with_a_non_numeric_id_is_not_a_500(client, street_staff):
    client.force_login(street_staff)
    for name in (
        "grids_household_change",
        "grids_notification_change",
        "grids_region_change",
    ):
        response = client.get(reverse(f"admin:{name}", args=["abc"]))
        assert response.status_code in (302, 404), name


def test_import_of_a_binary_file_is_refused_with_a_message(client, community_staff):
    client.force_login(community_staff)
    garbage = SimpleUploadedFile("households.xlsx", b"\x00\x01not a spreadsheet" * 100)
    response = client.post(
        reverse("admin:grids_household_import"),
        {"import_file": garbage, "format": "1"},
    )
    assert response.status_code == 200
    assert Household.objects.count() == 0


def test_notifications_are_private_and_marked_read_on_open(
    client, street_staff, community_staff
):
    notify(recipients=[street_staff], title="工单超期", dedupe_key="t:1")
    notify(recipients=[street_staff], title="工单超期", dedupe_key="t:1")  # once only
    mine = Notification.objects.get(recipient=street_staff)
    open_url = reverse("admin:grids_notification_open", args=[mine.pk])
    client.force_login(community_staff)
    assert (
        client.get(
            reverse("admin:grids_notification_change", args=[mine.pk])
        ).status_code
        == 302
    )
    assert client.post(open_url).status_code == 404
    mine.refresh_from_db()
    assert mine.read_at is None
    client.force_login(street_staff)
    page = client.get(reverse("admin:grids_notification_changelist")).content.decode()
    assert "(1)" in page  # unread count in the header
    # looking at a message changes nothing; opening it (a POST) marks it read
    client.get(reverse("admin:grids_notification_change", args=[mine.pk]))
    mine.refresh_from_db()
    assert mine.read_at is None
    client.post(open_url)
    mine.refresh_from_db()
    assert mine.read_at is not None


@pytest.mark.parametrize(
    ("url_name", "field"),
    [
        ("admin:grids_patrol_changelist", "occurred_at"),
        ("admin:tickets_workcalendarday_changelist", "date"),
        ("admin:points_ledgerentry_changelist", "created_at"),
    ],
)
@pytest.mark.parametrize("year", ["99999", "²", "0", "abc"])
def test_date_drill_down_with_a_bad_year_is_not_a_500(
    client, street_staff, url_name, field, year
):
    client.force_login(street_staff)
    response = client.get(reverse(url_name), {f"{field}__year": year})
    assert response.status_code == 302
    assert "e=1" in response.url
