"""``TicketFilterSet``: each filter, malformed values, and the scope kept."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from grids.choices import UserRole
from tests.grids.factories import UserFactory
from tests.tickets.factories import CategoryFactory, walk_to
from tickets import selectors
from tickets.choices import Source, Stage, Verdict
from tickets.filters import TicketFilterSet, filter_tickets
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _ids(actor, **filters):
    return set(
        filter_tickets(actor=actor, filters=filters).values_list("pk", flat=True)
    )


@pytest.fixture
def tickets(lifecycle):
    tree = lifecycle["tree"]
    accepted = walk_to(Stage.ACCEPTED, **lifecycle)
    closed = walk_to(Stage.CLOSED, **lifecycle)
    received = walk_to(
        Stage.RECEIVED,
        region=tree["grids"][2],
        source=Source.HOTLINE,
        hotline_number="JN2026120100042",
        description="路灯不亮",
        address="幸福路18号",
        **lifecycle,
    )
    triaged = walk_to(Stage.TRIAGED, **lifecycle)
    return {
        "accepted": accepted,
        "closed": closed,
        "received": received,
        "triaged": triaged,
    }


def test_mine_and_to_dispatch_by_me(lifecycle, tickets):
    assert _ids(lifecycle["handler"], mine=True) == {
        tickets["accepted"].pk,
        tickets["closed"].pk,
    }
    assert _ids(lifecycle["street_staff"], mine=True) == set()
    # walk_to names the street staff the leader of every triaged ticket.
    assert _ids(lifecycle["street_staff"], to_dispatch_by_me=True) == {
        tickets["triaged"].pk
    }
    assert _ids(lifecycle["community_staff"], to_dispatch_by_me=True) == set()


def test_region_and_holder_region_subtrees(lifecycle, tickets):
    tree, actor = lifecycle["tree"], lifecycle["street_staff"]
    assert _ids(actor, region=tree["communities"][1].pk) == {tickets["received"].pk}
    # An accepted ticket is held by its handling community; a new one by the street.
    assert _ids(actor, holder_region=tree["communities"][0].pk) == {
        tickets["accepted"].pk,
        tickets["closed"].pk,
    }
    held_by_street = _ids(actor, holder_region=tree["street"].pk)
    assert {tickets["received"].pk, tickets["triaged"].pk} <= held_by_street


def test_overdue_due_today_and_escalated(lifecycle, tickets):
    actor = lifecycle["street_staff"]
    now = timezone.now()
    Ticket.objects.filter(pk=tickets["accepted"].pk).update(
        stage_deadline=now - dt.timedelta(minutes=1), escalation_level=1
    )
    assert _ids(actor, overdue=True) == {tickets["accepted"].pk}
    assert tickets["accepted"].pk not in _ids(actor, overdue=False)
    assert tickets["received"].pk in _ids(actor, overdue=False)
    assert _ids(actor, escalated=True) == {tickets["accepted"].pk}
    assert tickets["accepted"].pk not in _ids(actor, escalated=False)
    # Due today: the deadline falls on today's date in China.
    noon = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(12)))
    Ticket.objects.filter(pk=tickets["triaged"].pk).update(stage_deadline=noon)
    Ticket.objects.filter(pk=tickets["accepted"].pk).update(
        stage_deadline=noon - dt.timedelta(days=1)
    )
    Ticket.objects.filter(pk=tickets["received"].pk).update(
        stage_deadline=noon + dt.timedelta(days=1)
    )
    with time_machine.travel(noon - dt.timedelta(hours=3), tick=False):
        assert _ids(actor, due_today=True) == {tickets["triaged"].pk}
    # A closed ticket is never due, whatever its old deadline.
    assert tickets["closed"].pk not in _ids(actor, due_today=True)


def test_stage_several_at_once_source_verdict(lifecycle, tickets):
    actor = lifecycle["street_staff"]
    assert _ids(actor, stage=[Stage.ACCEPTED, Stage.CLOSED]) == {
        tickets["accepted"].pk,
        tickets["closed"].pk,
    }
    assert _ids(actor, stage=Stage.CLOSED) == {tickets["closed"].pk}
    assert _ids(actor, source=Source.HOTLINE) == {tickets["received"].pk}
    assert _ids(actor, verdict=Verdict.SATISFIED) == {tickets["closed"].pk}


def test_category_subtree(lifecycle, tickets):
    actor = lifecycle["street_staff"]
    category = lifecycle["category"]
    expected = {tickets["accepted"].pk, tickets["closed"].pk, tickets["triaged"].pk}
    assert _ids(actor, category=category.parent_id) == expected
    assert _ids(actor, category=category.pk) == expected
    assert _ids(actor, category=CategoryFactory(name="别的类别").pk) == set()


@pytest.mark.parametrize(
    "term", ["number", "JN2026120100042", "路灯", "幸福路", "jn2026120100042"]
)
def test_text_search(lifecycle, tickets, term):
    if term == "number":
        term = tickets["received"].number
    assert _ids(lifecycle["street_staff"], q=term) == {tickets["received"].pk}


@pytest.mark.parametrize(
    "filters",
    [
        {"region": "abc"},
        {"region": "١٢"},
        {"region": "99999999999999999999999"},
        {"category": "-1"},
        {"holder_region": "1.5"},
        {"stage": "nonsense"},
        {"overdue": "maybe"},
        {"source": "carrier-pigeon"},
        {"verdict": "ok"},
        {"mine": "1"},
    ],
)
def test_malformed_values_give_an_empty_list_and_a_form_error(
    lifecycle, tickets, filters
):
    actor = lifecycle["street_staff"]
    assert _ids(actor, **filters) == set()
    filterset = TicketFilterSet(filters, actor=actor)
    assert not filterset.is_valid()
    assert set(filterset.errors) == set(filters)


def test_scope_is_kept(lifecycle, tickets, other_tree):
    outsider = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    assert _ids(outsider) == set()
    assert _ids(outsider, q=tickets["received"].number) == set()
    # A region outside the actor's area is not a valid choice: nothing shown.
    assert _ids(outsider, region=lifecycle["tree"]["street"].pk) == set()
    # The community staff see their community's tickets, not the other one's.
    community = lifecycle["community_staff"]
    assert tickets["received"].pk not in _ids(community, source=Source.HOTLINE)


def test_ticket_list_uses_the_filterset(lifecycle, tickets):
    actor = lifecycle["street_staff"]
    rows = selectors.ticket_list(actor=actor, filters={"q": "路灯"})
    assert [t.pk for t in rows] == [tickets["received"].pk]
    assert list(selectors.ticket_list(actor=actor, filters={"region": "x"})) == []


def test_admin_list_filters_and_search_go_through_the_filterset(
    client, lifecycle, tickets
):
    client.force_login(lifecycle["street_staff"])
    url = reverse("admin:tickets_ticket_changelist")

    def listed(query):
        response = client.get(url + query)
        assert response.status_code == 200
        return {t.pk for t in response.context["cl"].result_list}

    assert listed("?to_dispatch_by_me=yes") == {tickets["triaged"].pk}
    assert listed(f"?q={tickets['received'].number}") == {tickets["received"].pk}
    assert listed("?q=幸福路") == {tickets["received"].pk}
    assert listed("?stage=closed") == {tickets["closed"].pk}
    assert listed("?region=abc") == set()
