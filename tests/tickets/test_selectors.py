import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from grids.choices import UserRole
from grids.errors import OutOfScope
from tests.grids.factories import UserFactory
from tests.tickets.factories import DepartmentFactory, walk_to
from tickets import selectors, services
from tickets.choices import Action, Stage, Verdict
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_scope_covers_place_handling_unit_handler_and_department(lifecycle, other_tree):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    other_staff = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=lifecycle["tree"]["communities"][1]
    )
    outsider = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    assert ticket in selectors.ticket_list(actor=lifecycle["street_staff"])
    assert ticket in selectors.ticket_list(actor=lifecycle["community_staff"])
    assert ticket in selectors.ticket_list(actor=lifecycle["handler"])
    assert ticket not in selectors.ticket_list(actor=other_staff)
    assert ticket not in selectors.ticket_list(actor=outsider)
    with pytest.raises(OutOfScope):
        selectors.ticket_detail(actor=outsider, ticket_id=ticket.pk)
    # A department member far away sees what is dispatched to the department.
    member = UserFactory(role=UserRole.GRID_WORKER, region=other_tree["grids"][0])
    department = DepartmentFactory(name="供电")
    department.members.add(member)
    dep_ticket = walk_to(Stage.TRIAGED, **lifecycle)
    services.ticket_dispatch(
        actor=lifecycle["street_staff"],
        ticket_id=dep_ticket.pk,
        handling_department=department,
    )
    assert list(selectors.ticket_list(actor=member)) == [dep_ticket]


def test_filters(lifecycle):
    tree = lifecycle["tree"]
    accepted = walk_to(Stage.ACCEPTED, **lifecycle)
    closed = walk_to(Stage.CLOSED, **lifecycle)
    other_grid = walk_to(Stage.RECEIVED, region=tree["grids"][2], **lifecycle)
    Ticket.objects.filter(pk=accepted.pk).update(
        stage_deadline=timezone.now() - dt.timedelta(hours=1), escalation_level=1
    )
    actor = lifecycle["street_staff"]

    def ids(**filters):
        return set(
            selectors.ticket_list(actor=actor, filters=filters).values_list(
                "pk", flat=True
            )
        )

    assert ids(stage=Stage.CLOSED) == {closed.pk}
    assert ids(overdue=True) == {accepted.pk}
    assert ids(escalated=True) == {accepted.pk}
    assert ids(verdict=Verdict.SATISFIED) == {closed.pk}
    assert ids(region=tree["communities"][1].pk) == {other_grid.pk}
    assert ids(category=lifecycle["category"].parent_id) == {accepted.pk, closed.pk}
    assert ids(source="patrol") == {accepted.pk, closed.pk, other_grid.pk}


def test_list_query_count_does_not_grow(lifecycle, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for batch in (2, 8):
        for _ in range(batch):
            walk_to(Stage.ACCEPTED, **lifecycle)
        with CaptureQueriesContext(connection) as queries:
            rows = list(selectors.ticket_list(actor=lifecycle["street_staff"]))
            [(t.category.name, t.region.name, str(t.handler)) for t in rows]
        counts.append(len(queries))
    # the user's departments, the subtree's region ids, the page: 3 at most
    assert counts[0] == counts[1] <= 3


def test_timeline_in_order(lifecycle):
    ticket = walk_to(Stage.CLOSED, **lifecycle)
    actions = [e.action for e in selectors.ticket_timeline(ticket=ticket)]
    assert actions == [
        Action.CREATE,
        Action.TRIAGE,
        Action.DISPATCH,
        Action.ACCEPT,
        Action.HANDLE,
        Action.EVALUATE,
        Action.ASSESS,
    ]


def test_outsider_cannot_act_through_the_admin(client, lifecycle, other_tree):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    outsider = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=other_tree["communities"][0]
    )
    client.force_login(outsider)
    response = client.post(
        reverse("admin:tickets_ticket_action", args=[ticket.pk, Action.ACCEPT]),
        {"accept-handler": lifecycle["handler"].pk},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.stage == Stage.DISPATCHED
