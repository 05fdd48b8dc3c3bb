"""The in-app inbox: links only inside the site, checked when a message is
written and again when it is opened; opening is a POST that marks it read."""

import pytest
from django.urls import reverse

from grids.models import Notification
from grids.notifications import is_site_link, notification_open, notify, notify_many

pytestmark = pytest.mark.django_db

HOSTILE_LINKS = [
    "https://evil.example/phish",
    "//evil.example/x",
    "/\\\\evil.example",
    "javascript:alert(1)",
    " javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "tickets/12/",
    "/tickets/\n12/",
    "/tickets/ 12/",
]


@pytest.mark.parametrize("url", HOSTILE_LINKS)
def test_links_outside_the_site_are_dropped_when_written(street_staff, url):
    assert not is_site_link(url)
    notify(recipients=[street_staff], title="工单超期", url=url)
    notify_many([{"recipients": [street_staff], "title": "又一条", "url": url}])
    assert set(Notification.objects.values_list("url", flat=True)) == {""}


def test_site_links_are_kept(street_staff):
    notify(recipients=[street_staff], title="工单超期", url="/tickets/12/?tab=events")
    assert Notification.objects.get().url == "/tickets/12/?tab=events"


def test_opening_marks_read_and_goes_to_the_link(client, street_staff):
    notify(recipients=[street_staff], title="工单超期", url="/tickets/12/")
    notification = Notification.objects.get()
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:grids_notification_open", args=[notification.pk])
    )
    assert response.status_code == 302
    assert response["Location"] == "/tickets/12/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_opening_is_a_post_only(client, street_staff):
    notify(recipients=[street_staff], title="工单超期", url="/tickets/12/")
    notification = Notification.objects.get()
    client.force_login(street_staff)
    url = reverse("admin:grids_notification_open", args=[notification.pk])
    assert client.get(url).status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_message_without_a_safe_link_opens_its_own_page(client, street_staff):
    notify(recipients=[street_staff], title="工单超期")
    notification = Notification.objects.get()
    # a row written before links were checked
    Notification.objects.update(url="javascript:alert(1)")
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:grids_notification_open", args=[notification.pk])
    )
    assert response["Location"] == reverse(
        "admin:grids_notification_change", args=[notification.pk]
    )
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_nobody_opens_another_users_message(street_staff, community_staff):
    notify(recipients=[street_staff], title="工单超期", url="/tickets/12/")
    notification = Notification.objects.get()
    assert (
        notification_open(user=community_staff, notification_id=notification.pk) is None
    )
    notification.refresh_from_db()
    assert notification.read_at is None


def test_inbox_title_is_an_escaped_open_button(client, street_staff):
    notify(recipients=[street_staff], title="<script>x</script>超期", url="/t/1/")
    notification = Notification.objects.get()
    client.force_login(street_staff)
    page = client.get(reverse("admin:grids_notification_changelist")).content.decode()
    open_url = reverse("admin:grids_notification_open", args=[notification.pk])
    # the button posts the changelist's own form, which carries the CSRF token
    changelist_form = page[page.index('<form id="changelist-form"') :]
    changelist_form = changelist_form[: changelist_form.index("</form>")]
    assert "csrfmiddlewaretoken" in changelist_form
    assert f'formaction="{open_url}"' in changelist_form
    assert "&lt;script&gt;x&lt;/script&gt;超期" in page
    assert "<script>x</script>" not in page
    detail = client.get(
        reverse("admin:grids_notification_change", args=[notification.pk])
    ).content.decode()
    assert f'formaction="{open_url}"' in detail
