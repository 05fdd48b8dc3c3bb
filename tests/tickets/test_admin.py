import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from grids.choices import UserRole
from tests.grids.factories import UserFactory
from tests.tickets.factories import DepartmentFactory, walk_to
from tickets.choices import Action, Stage
from tickets.models import Department, Ticket

pytestmark = pytest.mark.django_db


def _page(ticket):
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def _action(ticket, action):
    return reverse("admin:tickets_ticket_action", args=[ticket.pk, action])


def test_changelist_is_scoped_and_filters_work(client, lifecycle, other_tree):
    mine = walk_to(Stage.ACCEPTED, **lifecycle)
    outsider = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    client.force_login(lifecycle["street_staff"])
    url = reverse("admin:tickets_ticket_changelist")
    response = client.get(url)
    assert response.status_code == 200
    assert mine.number in response.content.decode()
    for query in (
        "?overdue=yes",
        "?escalated=yes",
        f"?region={lifecycle['tree']['communities'][0].pk}",
        f"?category={lifecycle['category'].parent_id}",
        "?stage=accepted&source=patrol",
        "?verdict=unevaluated",
    ):
        assert client.get(url + query).status_code == 200
    client.force_login(outsider)
    response = client.get(url)
    assert mine.number not in response.content.decode()
    # The detail of a ticket outside the scope is refused.
    response = client.get(_page(mine))
    assert response.status_code == 302


def test_overdue_deadline_is_red_in_the_list(client, lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    Ticket.objects.filter(pk=ticket.pk).update(
        stage_deadline=timezone.now() - dt.timedelta(hours=2)
    )
    client.force_login(lifecycle["street_staff"])
    response = client.get(reverse("admin:tickets_ticket_changelist") + "?overdue=yes")
    assert "color:#ba2121" in response.content.decode()


def test_ticket_page_shows_only_the_actions_the_user_may_take(client, lifecycle):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    client.force_login(lifecycle["community_staff"])
    html = client.get(_page(ticket)).content.decode()
    assert _action(ticket, Action.ACCEPT) in html
    assert _action(ticket, Action.RETURN) in html
    assert _action(ticket, Action.HANDLE) not in html
    handler = lifecycle["handler"]
    handler.is_staff = True
    handler.save()
    client.force_login(handler)
    html = client.get(_page(ticket)).content.decode()
    assert _action(ticket, Action.ACCEPT) not in html


def test_accept_from_the_ticket_page(client, lifecycle):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    client.force_login(lifecycle["community_staff"])
    response = client.post(
        _action(ticket, Action.ACCEPT),
        {"accept-handler": lifecycle["handler"].pk, "accept-note": "马上去"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.stage == Stage.ACCEPTED
    page = client.get(_page(ticket)).content.decode()
    assert "马上去" in page  # in the timeline


def test_refused_action_from_the_page_writes_nothing(client, lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    client.force_login(lifecycle["community_staff"])
    response = client.post(_action(ticket, Action.HANDLE), {"handle-result": "我来办"})
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.stage == Stage.ACCEPTED
    assert ticket.events.filter(action=Action.HANDLE).count() == 0


def test_triage_and_dispatch_from_one_page(client, lifecycle):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    tree = lifecycle["tree"]
    client.force_login(lifecycle["street_staff"])
    response = client.post(
        _action(ticket, Action.TRIAGE),
        {
            "triage-category": lifecycle["category"].pk,
            "triage-region": tree["grids"][0].pk,
            "triage-responsible_leader": lifecycle["street_staff"].pk,
            "triage-handling_region": tree["communities"][0].pk,
            "triage-instructions": "今日处理",
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.stage == Stage.DISPATCHED


def test_triage_queue_and_bulk_dispatch(client, lifecycle):
    triaged = walk_to(Stage.TRIAGED, **lifecycle)
    accepted = walk_to(Stage.ACCEPTED, **lifecycle)
    client.force_login(lifecycle["street_staff"])
    url = reverse("admin:tickets_triagequeueticket_changelist")
    html = client.get(url).content.decode()
    assert triaged.number in html and accepted.number not in html
    response = client.post(
        reverse("admin:tickets_ticket_changelist"),
        {
            "action": "bulk_dispatch",
            "_selected_action": [triaged.pk, accepted.pk],
            "apply": "1",
            "handling_region": lifecycle["tree"]["communities"][0].pk,
        },
    )
    assert response.status_code == 302
    triaged.refresh_from_db()
    assert triaged.stage == Stage.DISPATCHED


def test_intake_through_the_add_page(client, lifecycle):
    client.force_login(lifecycle["street_staff"])
    response = client.post(
        reverse("admin:tickets_ticket_add"),
        {
            "source": "letter_visit",
            "region": lifecycle["tree"]["grids"][1].pk,
            "description": "楼道堆物",
            "reporter_name": "赵六",
            "reporter_phone": "13612345678",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket = Ticket.objects.get(description="楼道堆物")
    assert ticket.events.get().action == Action.CREATE
    html = client.get(_page(ticket)).content.decode()
    assert "136****5678" in html and "13612345678" not in html


def test_ticket_page_query_count(client, lifecycle, django_assert_max_num_queries):
    ticket = walk_to(Stage.CLOSED, **lifecycle)
    client.force_login(lifecycle["street_staff"])
    with django_assert_max_num_queries(40):
        assert client.get(_page(ticket)).status_code == 200


def test_calendar_admin_pages(client, lifecycle):
    client.force_login(lifecycle["street_staff"])
    assert (
        client.get(reverse("admin:tickets_workcalendarday_changelist")).status_code
        == 200
    )
    assert (
        client.get(reverse("admin:tickets_workcalendaryear_changelist")).status_code
        == 200
    )
    assert client.get(reverse("admin:tickets_category_changelist")).status_code == 200
    assert client.get(reverse("admin:tickets_department_changelist")).status_code == 200


# --- departments ---------------------------------------------------------------------


def _department_post(department, **changes):
    data = {
        "name": department.name,
        "region": department.region_id or "",
        "members": [m.pk for m in department.members.all()],
        "is_active": "on" if department.is_active else "",
    }
    data.update(changes)
    return data


def test_street_staff_cannot_change_a_shared_department(client, lifecycle, admin_user):
    shared = DepartmentFactory(name="共享民政", region=None)
    url = reverse("admin:tickets_department_change", args=[shared.pk])
    client.force_login(lifecycle["street_staff"])
    response = client.get(url)
    assert response.status_code == 200  # shown read-only
    assert 'name="name"' not in response.content.decode()
    response = client.post(url, _department_post(shared, name="改名"))
    assert response.status_code == 403
    shared.refresh_from_db()
    assert shared.name == "共享民政"
    client.force_login(admin_user)
    response = client.post(url, _department_post(shared, name="区民政"))
    assert response.status_code == 302
    shared.refresh_from_db()
    assert shared.name == "区民政"


def test_department_members_come_from_the_actors_area(client, lifecycle, other_tree):
    tree = lifecycle["tree"]
    department = DepartmentFactory(name="街道城管", region=tree["street"])
    insider = lifecycle["handler"]
    outsider = UserFactory(role=UserRole.GRID_WORKER, region=other_tree["grids"][0])
    url = reverse("admin:tickets_department_change", args=[department.pk])
    client.force_login(lifecycle["street_staff"])
    response = client.get(url)
    assert response.status_code == 200
    field = response.context["adminform"].form.fields["members"]
    assert insider in field.queryset
    assert outsider not in field.queryset
    response = client.post(
        url, _department_post(department, members=[insider.pk, outsider.pk])
    )
    assert response.status_code == 200  # the form shows the error
    assert response.context["adminform"].form.errors["members"]
    assert not department.members.exists()
    response = client.post(url, _department_post(department, members=[insider.pk]))
    assert response.status_code == 302
    assert list(department.members.all()) == [insider]


def test_street_staff_must_give_a_department_its_region(client, lifecycle):
    url = reverse("admin:tickets_department_add")
    client.force_login(lifecycle["street_staff"])
    response = client.post(url, {"name": "无区部门", "is_active": "on"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["region"]
    assert not Department.objects.filter(name="无区部门").exists()
    street = lifecycle["tree"]["street"]
    response = client.post(
        url, {"name": "街道部门", "region": street.pk, "is_active": "on"}
    )
    assert response.status_code == 302
    assert Department.objects.get(name="街道部门").region == street


def test_overlong_call_note_on_the_ticket_page_is_a_form_error(client, lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    client.force_login(lifecycle["community_staff"])
    response = client.post(
        _action(ticket, Action.EVALUATE),
        {"evaluate-verdict": "satisfied", "evaluate-call_note": "接" * 201},
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.stage == Stage.HANDLED


@pytest.mark.parametrize(
    "name", ["tickets_ticket_changelist", "tickets_triagequeueticket_changelist"]
)
@pytest.mark.parametrize(
    "query",
    [
        "?region=abc",
        "?category=abc",
        "?region=١٢",
        "?category=-1&region=1.5",
        "?overdue=maybe",
        "?stage=nonsense",
        "?holder_region=99999999999999999999",
    ],
)
def test_malformed_filter_values_show_an_empty_list(client, lifecycle, name, query):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    client.force_login(lifecycle["street_staff"])
    response = client.get(reverse(f"admin:{name}") + query)
    assert response.status_code == 200
    assert ticket.number not in response.content.decode()


def test_bulk_dispatch_action_only_for_leaders(client, lifecycle, supervisor):
    walk_to(Stage.TRIAGED, **lifecycle)
    url = reverse("admin:tickets_triagequeueticket_changelist")
    for user in (lifecycle["street_staff"], lifecycle["community_staff"]):
        client.force_login(user)
        assert "bulk_dispatch" in client.get(url).content.decode()
    lifecycle["handler"].is_staff = True
    lifecycle["handler"].save()
    for user in (supervisor, lifecycle["handler"]):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert "bulk_dispatch" not in response.content.decode()
