"""吹哨报到 pages: blow and check in from the phone, the attendance table, and
another community's whistles answering 404."""

from django.urls import reverse

from grids.choices import UserRole
from partyorg.whistle.choices import CallStatus
from partyorg.whistle.models import Whistle
from partyorg.whistle.services import whistle_blow
from tests.grids.factories import UserFactory
from tests.partyorg.factories import RegistrationFactory
from tests.tickets.factories import DepartmentFactory


def test_grid_worker_blows_and_checks_in_from_the_phone(client, tree, grid_worker):
    department = DepartmentFactory(name="城管执法", region=tree["street"])
    registration = RegistrationFactory(
        community=tree["communities"][0], member__name="李在职"
    )
    client.force_login(grid_worker)
    page = client.get(reverse("m:party:whistle_new"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "城管执法" in body and "李*职" in body and "李在职" not in body
    response = client.post(
        reverse("m:party:whistle_new"),
        {
            "region": tree["grids"][0].pk,
            "title": "化粪池外溢",
            "meeting_point": "5号楼",
            "report_within_minutes": 30,
            "departments": [department.pk],
            "members": [registration.member.pk],
        },
    )
    whistle = Whistle.objects.get(title="化粪池外溢")
    detail_url = reverse("m:party:whistle_detail", args=[whistle.pk])
    assert response.status_code == 302 and response["Location"] == detail_url
    call = whistle.calls.get(department=department)
    assert "城管执法" in client.get(detail_url).content.decode()
    assert client.post(detail_url, {"call": call.pk}).status_code == 302
    call.refresh_from_db()
    assert call.status == CallStatus.ON_TIME
    # A second press changes nothing and says so.
    again = client.post(detail_url, {"call": call.pk}, follow=True)
    assert "already recorded" in again.content.decode() or "已记录" in (
        again.content.decode()
    )
    assert client.post(detail_url, {"call": "x"}).status_code == 404


def test_supervisor_cannot_blow(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("m:party:whistle_new")).status_code == 404


def test_another_communitys_whistle_is_404(client, tree, grid_worker):
    department = DepartmentFactory(name="住建局", region=None)
    worker_b = UserFactory(role=UserRole.GRID_WORKER, region=tree["grids"][2])
    whistle = whistle_blow(
        actor=worker_b,
        region=tree["grids"][2],
        title="别的社区",
        meeting_point="西门",
        report_within_minutes=20,
        departments=[department],
    )
    client.force_login(grid_worker)
    url = reverse("m:party:whistle_detail", args=[whistle.pk])
    assert client.get(url).status_code == 404
    call = whistle.calls.get()
    assert client.post(url, {"call": call.pk}).status_code == 404
    call.refresh_from_db()
    assert call.status == CallStatus.PENDING
    assert (
        "别的社区" not in client.get(reverse("m:party:whistle_list")).content.decode()
    )
    table = client.get(reverse("partyorg:whistle_department_attendance"))
    assert table.status_code == 200 and "住建局" not in table.content.decode()


def test_attendance_table_counts_the_areas_departments(client, tree, community_staff):
    department = DepartmentFactory(name="民政科", region=None)
    whistle_blow(
        actor=community_staff,
        region=tree["grids"][0],
        title="独居老人",
        meeting_point="1号楼",
        report_within_minutes=20,
        departments=[department],
    )
    client.force_login(community_staff)
    page = client.get(reverse("partyorg:whistle_department_attendance"))
    assert page.status_code == 200 and "民政科" in page.content.decode()
    assert (
        client.get(
            reverse("partyorg:whistle_department_attendance") + "?year=1900"
        ).status_code
        == 404
    )
