"""派单 is the responsible leader's (seed 004): 制单 names and tells the leader,
the leader has a 待我派单 queue and dispatches with handling instructions; the
one-step 制单+派单 is only for a triager who names themself."""

import datetime as dt

import pytest
from django.urls import reverse

from grids.choices import UserRole
from grids.errors import DomainError, NotAllowed
from grids.models import Notification
from tests.grids.factories import UserFactory
from tests.tickets.factories import DepartmentFactory, walk_to
from tickets import actions, permissions, services
from tickets.choices import Action, Stage
from tickets.forms import TriageForm
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def leader(tree):
    """Another street cadre, the 分管领导 named at 制单."""
    return UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])


def _triage(lifecycle, ticket, leader, **kw):
    return services.ticket_triage(
        actor=lifecycle["street_staff"],
        ticket_id=ticket.pk,
        category=lifecycle["category"],
        region=lifecycle["tree"]["grids"][0],
        responsible_leader=leader,
        **kw,
    )


def test_triage_tells_the_leader_with_a_link(
    lifecycle, leader, django_capture_on_commit_callbacks
):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    with django_capture_on_commit_callbacks(execute=True):
        _triage(lifecycle, ticket, leader)
    ticket.refresh_from_db()
    assert ticket.stage == Stage.TRIAGED
    note = Notification.objects.get(recipient=leader)
    assert ticket.number in note.title
    assert note.url == reverse("admin:tickets_ticket_change", args=[ticket.pk])
    # The triager who names themself gets no notice.
    assert not Notification.objects.filter(recipient=lifecycle["street_staff"])


def test_only_the_named_leader_dispatches(lifecycle, leader):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    _triage(lifecycle, ticket, leader)
    triager = lifecycle["street_staff"]
    assert Action.DISPATCH not in permissions.available_actions(triager, ticket)
    with pytest.raises(NotAllowed):
        services.ticket_dispatch(
            actor=triager,
            ticket_id=ticket.pk,
            handling_region=lifecycle["tree"]["communities"][0],
        )
    ticket.refresh_from_db()
    assert ticket.stage == Stage.TRIAGED
    assert not ticket.events.filter(action=Action.DISPATCH).exists()
    assert Action.DISPATCH in permissions.available_actions(leader, ticket)
    services.ticket_dispatch(
        actor=leader,
        ticket_id=ticket.pk,
        handling_region=lifecycle["tree"]["communities"][0],
        instructions="三日内清理，回复当事人",
    )
    ticket.refresh_from_db()
    assert ticket.stage == Stage.DISPATCHED
    assert ticket.instructions == "三日内清理，回复当事人"
    assert ticket.events.get(action=Action.DISPATCH).actor == leader


def test_a_superuser_may_dispatch(lifecycle, leader, admin_user):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    _triage(lifecycle, ticket, leader)
    services.ticket_dispatch(
        actor=admin_user,
        ticket_id=ticket.pk,
        handling_region=lifecycle["tree"]["communities"][0],
    )
    ticket.refresh_from_db()
    assert ticket.stage == Stage.DISPATCHED


def test_community_leader_dispatches_to_their_community_or_a_department(lifecycle):
    tree = lifecycle["tree"]
    community_leader = lifecycle["community_staff"]
    ticket = walk_to(Stage.TRIAGED, leader=community_leader, **lifecycle)
    # walk_to(TRIAGED) stops before 派单; the leader now dispatches.
    assert ticket.responsible_leader == community_leader
    assert Action.DISPATCH in permissions.available_actions(community_leader, ticket)
    # Another community is outside the community leader's scope.
    with pytest.raises(DomainError):
        services.ticket_dispatch(
            actor=community_leader,
            ticket_id=ticket.pk,
            handling_region=tree["communities"][1],
        )
    services.ticket_dispatch(
        actor=community_leader,
        ticket_id=ticket.pk,
        handling_region=tree["communities"][0],
        instructions="网格员当日上门",
    )
    ticket.refresh_from_db()
    assert (ticket.stage, ticket.handling_region) == (
        Stage.DISPATCHED,
        tree["communities"][0],
    )
    department = DepartmentFactory(name="社区物业", region=tree["communities"][0])
    other = walk_to(Stage.TRIAGED, leader=community_leader, **lifecycle)
    services.ticket_dispatch(
        actor=community_leader,
        ticket_id=other.pk,
        handling_department=department,
    )
    other.refresh_from_db()
    assert other.handling_department == department


def test_walk_to_dispatches_as_the_leader(lifecycle):
    ticket = walk_to(Stage.DISPATCHED, leader=lifecycle["community_staff"], **lifecycle)
    assert (
        ticket.events.get(action=Action.DISPATCH).actor
        == (lifecycle["community_staff"])
    )


def test_one_step_triage_and_dispatch_only_for_the_leader(lifecycle, leader):
    tree = lifecycle["tree"]
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    with pytest.raises(DomainError) as exc:
        services.ticket_triage_and_dispatch(
            actor=lifecycle["street_staff"],
            ticket_id=ticket.pk,
            category=lifecycle["category"],
            region=tree["grids"][0],
            responsible_leader=leader,
            handling_region=tree["communities"][0],
        )
    assert exc.value.code == "not_leader"
    ticket.refresh_from_db()
    assert ticket.stage == Stage.RECEIVED
    assert list(ticket.events.values_list("action", flat=True)) == [Action.CREATE]
    # The form says so before the service is reached.
    form = TriageForm(
        {
            "category": lifecycle["category"].pk,
            "region": tree["grids"][0].pk,
            "responsible_leader": leader.pk,
            "handling_region": tree["communities"][0].pk,
        },
        user=lifecycle["street_staff"],
        ticket=ticket,
    )
    assert not form.is_valid()
    assert "responsible_leader" in form.errors
    # Naming themself, the triager does both at once.
    services.ticket_triage_and_dispatch(
        actor=lifecycle["street_staff"],
        ticket_id=ticket.pk,
        category=lifecycle["category"],
        region=tree["grids"][0],
        responsible_leader=lifecycle["street_staff"],
        handling_region=tree["communities"][0],
    )
    ticket.refresh_from_db()
    assert ticket.stage == Stage.DISPATCHED


def test_triage_form_without_unit_only_triages(lifecycle, leader):
    tree = lifecycle["tree"]
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    form, done = actions.submit(
        Action.TRIAGE,
        actor=lifecycle["street_staff"],
        ticket=ticket,
        data={
            "category": lifecycle["category"].pk,
            "region": tree["grids"][0].pk,
            "responsible_leader": leader.pk,
        },
    )
    assert form.is_valid(), form.errors
    assert done.stage == Stage.TRIAGED
    assert done.responsible_leader == leader


def test_bulk_dispatch_only_the_leaders_tickets(lifecycle, leader):
    mine = walk_to(Stage.TRIAGED, leader=leader, **lifecycle)
    theirs = walk_to(Stage.TRIAGED, **lifecycle)  # led by the street staff
    done, errors = services.tickets_bulk_dispatch(
        actor=leader,
        ticket_ids=[mine.pk, theirs.pk],
        handling_region=lifecycle["tree"]["communities"][0],
    )
    assert done == 1
    assert len(errors) == 1 and theirs.number in errors[0]
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.stage, theirs.stage) == (Stage.DISPATCHED, Stage.TRIAGED)


def test_leader_queue_lists_exactly_theirs_oldest_deadline_first(
    client, lifecycle, leader
):
    first = walk_to(Stage.TRIAGED, leader=leader, **lifecycle)
    second = walk_to(Stage.TRIAGED, leader=leader, **lifecycle)
    someone_elses = walk_to(Stage.TRIAGED, **lifecycle)
    dispatched = walk_to(Stage.DISPATCHED, leader=leader, **lifecycle)
    received = walk_to(Stage.RECEIVED, **lifecycle)
    Ticket.objects.filter(pk=second.pk).update(
        stage_deadline=first.stage_deadline - dt.timedelta(hours=1)
    )
    url = reverse("admin:tickets_leaderqueueticket_changelist")
    client.force_login(leader)
    response = client.get(url)
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert rows == [second, first]
    html = response.content.decode()
    assert first.number in html and second.number in html
    for other in (someone_elses, dispatched, received):
        assert other.number not in html


def test_leader_queue_is_for_street_and_community_staff(client, lifecycle, supervisor):
    url = reverse("admin:tickets_leaderqueueticket_changelist")
    for user in (lifecycle["street_staff"], lifecycle["community_staff"]):
        client.force_login(user)
        assert client.get(url).status_code == 200
    lifecycle["handler"].is_staff = True
    lifecycle["handler"].save()
    for user in (supervisor, lifecycle["handler"]):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_leader_dispatches_from_the_ticket_page(client, lifecycle, leader):
    ticket = walk_to(Stage.TRIAGED, leader=leader, **lifecycle)
    page = reverse("admin:tickets_ticket_change", args=[ticket.pk])
    dispatch_url = reverse(
        "admin:tickets_ticket_action", args=[ticket.pk, Action.DISPATCH]
    )
    client.force_login(lifecycle["street_staff"])
    assert dispatch_url not in client.get(page).content.decode()
    client.force_login(leader)
    assert dispatch_url in client.get(page).content.decode()
    response = client.post(
        dispatch_url,
        {
            "dispatch-handling_region": lifecycle["tree"]["communities"][0].pk,
            "dispatch-instructions": "先联系当事人",
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.stage == Stage.DISPATCHED
    assert ticket.instructions == "先联系当事人"
