"""The phone inbox (/m/grid/inbox/): my notices only, mark read, open (marked
read, then its link; a ticket's admin link opens the phone ticket page for an
account without admin access)."""

import pytest
from django.urls import reverse

from grids.models import Notification
from grids.notifications import notify

pytestmark = pytest.mark.django_db


def test_inbox_lists_only_my_notices(client, grid_worker, community_staff):
    notify(recipients=[grid_worker], title="给我的")
    notify(recipients=[community_staff], title="给别人的")
    client.force_login(grid_worker)
    response = client.get(reverse("m:grid:inbox"))
    assert [n.title for n in response.context["page"]] == ["给我的"]
    assert response.context["inbox_unread_count"] == 1


def test_mark_all_read_is_a_post(client, grid_worker):
    notify(recipients=[grid_worker], title="一")
    notify(recipients=[grid_worker], title="二")
    client.force_login(grid_worker)
    assert client.get(reverse("m:grid:inbox_mark_read")).status_code == 405
    client.post(reverse("m:grid:inbox_mark_read"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_opening_a_ticket_notice_goes_to_the_phone_ticket_page(client, grid_worker):
    notify(
        recipients=[grid_worker], title="工单", url="/admin/tickets/ticket/42/change/"
    )
    notice = Notification.objects.get()
    client.force_login(grid_worker)
    response = client.post(reverse("m:grid:inbox_open", args=[notice.pk]))
    assert response["Location"] == reverse("m:tickets:detail", args=[42])
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_opening_someone_elses_notice_is_404(client, grid_worker, community_staff):
    notify(recipients=[community_staff], title="别人的")
    notice = Notification.objects.get()
    client.force_login(grid_worker)
    response = client.post(reverse("m:grid:inbox_open", args=[notice.pk]))
    assert response.status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


@pytest.mark.parametrize("notices", [2, 40])
def test_inbox_query_count_does_not_grow(
    client, grid_worker, django_assert_max_num_queries, notices
):
    for i in range(notices):
        notify(recipients=[grid_worker], title=f"通知{i}")
    client.force_login(grid_worker)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("m:grid:inbox")).status_code == 200
