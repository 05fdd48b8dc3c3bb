"""A 12345 ticket number seen twice (the platform pushes again): the same content
is the same ticket; different content is a conflict, never an overwrite; a ticket
outside the caller's area is refused as if it did not exist."""

import threading

import pytest
from django.db import connection

from grids.choices import UserRole
from grids.errors import Conflict, DomainError, OutOfScope
from tests.grids.factories import UserFactory
from tests.tickets.factories import new_ticket
from tickets import services
from tickets.choices import Action, Source
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db

NUMBER = "JN2026112200017"


def push(actor, tree, **kwargs):
    data = {"source": Source.HOTLINE, "hotline_number": NUMBER}
    data.update(kwargs)
    return new_ticket(actor, tree, **data)


def test_same_content_again_is_the_same_ticket_without_a_new_event(tree, street_staff):
    first = push(street_staff, tree, address="历下区1号")
    # Spacing and the phone's formatting are not content.
    again = push(
        street_staff,
        tree,
        address=" 历下区1号 ",
        reporter_phone="+86 138 0000 1111",
        description=" 小区门口占道经营 ",
    )
    assert again.pk == first.pk
    assert list(TicketEvent.objects.values_list("action", flat=True)) == [Action.CREATE]


def test_same_content_after_triage_is_still_the_same_ticket(
    lifecycle, street_staff, tree
):
    first = push(street_staff, tree, region=tree["communities"][0])
    services.ticket_triage(
        actor=street_staff,
        ticket_id=first.pk,
        category=lifecycle["category"],
        region=tree["grids"][0],
        responsible_leader=street_staff,
    )
    # Compared with what the platform sent, not with what triage changed.
    again = push(street_staff, tree, region=tree["communities"][0])
    assert again.pk == first.pk


@pytest.mark.parametrize(
    "change",
    [
        {"description": "楼道堆放杂物"},
        {"address": "历下区2号"},
        {"reporter_phone": "13900002222"},
        {"reporter_name": "王五"},
    ],
)
def test_different_content_is_a_conflict_and_changes_nothing(
    tree, street_staff, change
):
    first = push(street_staff, tree)
    with pytest.raises(Conflict) as caught:
        push(street_staff, tree, **change)
    assert caught.value.code == "hotline_number_conflict"
    assert caught.value.extra["fields"] == list(change)
    first.refresh_from_db()
    assert first.description == "小区门口占道经营"
    assert first.reporter_phone == "13800001111"
    assert Ticket.objects.count() == 1
    assert TicketEvent.objects.count() == 1


def test_different_region_or_category_is_a_conflict(tree, street_staff, category):
    push(street_staff, tree)
    with pytest.raises(Conflict):
        push(street_staff, tree, region=tree["grids"][1])
    with pytest.raises(Conflict):
        push(street_staff, tree, category=category)


def test_number_of_a_ticket_outside_the_callers_area_is_refused_as_unknown(
    tree, other_tree, street_staff
):
    push(street_staff, tree)
    outsider = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    with pytest.raises(OutOfScope) as caught:
        push(outsider, other_tree)
    # The same answer as for a place outside the area: nothing is revealed.
    assert caught.value.code == "out_of_scope"
    assert Ticket.objects.count() == 1


def test_hotline_conflict_is_a_domain_error_with_a_message(tree, street_staff):
    push(street_staff, tree)
    with pytest.raises(DomainError) as caught:
        push(street_staff, tree, description="另一件事")
    assert NUMBER in caught.value.message


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent inserts need PostgreSQL; SQLite serialises writers",
)
def test_two_pushes_of_one_number_at_once_make_one_ticket(tree, street_staff):
    barrier = threading.Barrier(2)
    results = []

    def create(description):
        try:
            barrier.wait(timeout=10)
            results.append(push(street_staff, tree, description=description).pk)
        except DomainError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    for descriptions in (["同一件事", "同一件事"], ["一件事", "另一件事"]):
        Ticket.objects.filter(hotline_number=NUMBER).update(hotline_number="old")
        results.clear()
        threads = [threading.Thread(target=create, args=(d,)) for d in descriptions]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        tickets = list(Ticket.objects.filter(hotline_number=NUMBER))
        assert len(tickets) == 1
        if descriptions[0] == descriptions[1]:
            assert results == [tickets[0].pk, tickets[0].pk]
        else:
            assert sorted(map(str, results)) == sorted(
                [str(tickets[0].pk), "hotline_number_conflict"]
            )
        assert tickets[0].events.count() == 1
