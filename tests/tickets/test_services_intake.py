import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from grids.errors import Conflict, DomainError, NotAllowed
from grids.prepared import as_written
from tests.tickets.factories import walk_to
from tickets import services
from tickets.choices import Stage

pytestmark = pytest.mark.django_db


def test_likely_duplicates_same_grid_category_radius_and_window(lifecycle):
    near = walk_to(
        Stage.TRIAGED,
        latitude=Decimal("36.670000"),
        longitude=Decimal("117.020000"),
        **lifecycle,
    )
    far = walk_to(
        Stage.TRIAGED,
        latitude=Decimal("36.700000"),
        longitude=Decimal("117.020000"),
        **lifecycle,
    )
    closed = walk_to(
        Stage.CLOSED,
        latitude=Decimal("36.670100"),
        longitude=Decimal("117.020000"),
        **lifecycle,
    )
    new = walk_to(
        Stage.TRIAGED,
        latitude=Decimal("36.670500"),
        longitude=Decimal("117.020000"),
        **lifecycle,
    )
    found = services.ticket_likely_duplicates(ticket=new)
    assert near in found
    assert far not in found and closed not in found and new not in found
    assert services.ticket_likely_duplicates(ticket=new, window_days=1) == [near]
    old = services.ticket_likely_duplicates(ticket=new, window_days=1)
    assert old == [near]


def test_duplicates_outside_window_are_not_offered(lifecycle):
    from tests.tickets.factories import aware

    walk_to(Stage.TRIAGED, received_at=aware(2026, 1, 5, 10, 0), **lifecycle)
    new = walk_to(Stage.TRIAGED, **lifecycle)
    assert services.ticket_likely_duplicates(ticket=new, window_days=7) == []


def test_merge_refusals(lifecycle, community_staff):
    a = walk_to(Stage.RECEIVED, **lifecycle)
    b = walk_to(Stage.ACCEPTED, **lifecycle)
    closed = walk_to(Stage.CLOSED, **lifecycle)
    s = lifecycle["street_staff"]
    with pytest.raises(DomainError):
        services.ticket_merge(actor=s, ticket_id=a.pk, into_id=a.pk)
    with pytest.raises(Conflict):  # only new tickets are merged away
        services.ticket_merge(actor=s, ticket_id=b.pk, into_id=a.pk)
    with pytest.raises(Conflict):  # into an open ticket only
        services.ticket_merge(actor=s, ticket_id=a.pk, into_id=closed.pk)
    with pytest.raises(NotAllowed):
        services.ticket_merge(actor=community_staff, ticket_id=a.pk, into_id=b.pk)
    services.ticket_merge(actor=s, ticket_id=a.pk, into_id=b.pk)
    a.refresh_from_db()
    assert a.stage == Stage.MERGED and a.stage_deadline is None
    assert b.events.last().data == {"merged": a.pk}


def test_received_at_in_the_past_gives_past_deadline(lifecycle):
    from tests.tickets.factories import aware

    ticket = walk_to(Stage.RECEIVED, received_at=aware(2026, 9, 30, 10, 0), **lifecycle)
    assert ticket.stage_deadline == aware(2026, 10, 8, 17, 30)
    assert ticket.stage_deadline < ticket.received_at + dt.timedelta(days=9)


def _data_statements(captured) -> list[str]:
    """The statements of a capture, without the savepoints the test's own
    transaction adds around ``atomic`` (BEGIN and COMMIT in production, which
    the driver sends and Django does not record), as written (a prepared
    statement is logged as its ``EXECUTE``)."""
    return [
        as_written(q["sql"])
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the one-statement intake is PostgreSQL's (SQLite saves row by row)",
)
@pytest.mark.parametrize("source", ["patrol", "hotline"])
def test_intake_takes_two_statements_once_the_path_and_calendar_are_read(
    tree, street_staff, source
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.tickets.factories import new_ticket
    from tickets import versions

    def number(n):
        return f"H-{n}" if source == "hotline" else None

    new_ticket(street_staff, tree, source=source, hotline_number=number(1))
    with CaptureQueriesContext(connection) as captured:
        ticket = new_ticket(street_staff, tree, source=source, hotline_number=number(2))
    statements = _data_statements(captured)
    # The versions of the calendar and of the region tree (one read), then one
    # statement: the number, the ticket, its CREATE event (outside a
    # transaction, no BEGIN and COMMIT either).
    assert len(statements) == 2, statements
    assert statements[0] == versions.SQL
    # The number from the year's sequence: no row locked until commit.
    assert statements[1].startswith("WITH number_taken AS (SELECT nextval(")
    assert ticket.holder_region_id == tree["street"].pk
    assert ticket.place_grid_id == tree["grids"][0].pk
    assert ticket.stage_deadline is not None


def test_a_repeated_push_is_answered_without_a_second_ticket_or_number(
    tree, street_staff
):
    from tests.tickets.factories import new_ticket
    from tickets.models import Ticket

    first = new_ticket(street_staff, tree, source="hotline", hotline_number="H-9")
    again = new_ticket(street_staff, tree, source="hotline", hotline_number="H-9")
    assert again.pk == first.pk and again.number == first.number
    assert Ticket.objects.filter(hotline_number="H-9").count() == 1


@pytest.mark.parametrize("source", ["patrol", "hotline"])
def test_the_one_statement_intake_stores_what_the_instance_holds(
    tree, street_staff, source
):
    """The ticket and event the one statement writes are the returned
    instances, field by field (the same rows ``save()`` would write)."""
    from tests.tickets.factories import new_ticket
    from tickets.models import Ticket, TicketEvent
    from tickets.services import numbers

    # Twice: the first compiles the INSERT, the second takes it from the cache.
    last_sequence = None
    for n in range(2):
        ticket = new_ticket(
            street_staff,
            tree,
            source=source,
            hotline_number=f"H-77-{n}" if source == "hotline" else None,
            address=" 1 号楼 ",
            latitude=Decimal("31.230416"),
            longitude=Decimal("121.473701"),
            event_data={"patrol": 12 + n},
        )
        stored = Ticket.objects.get(pk=ticket.pk)
        for field in Ticket._meta.concrete_fields:
            assert getattr(stored, field.attname) == getattr(ticket, field.attname), (
                field.name
            )
        assert stored.address == "1 号楼"
        assert stored.place_grid_id == tree["grids"][0].pk
        year = numbers.number_year(stored.received_at)
        sequence = int(stored.number.split("-")[1])
        assert stored.number == numbers.format_ticket_number(year, sequence)
        if last_sequence is not None:
            assert sequence == last_sequence + 1
        last_sequence = sequence
        (event,) = TicketEvent.objects.filter(ticket=stored)
        assert event.action == "create"
        assert event.actor_id == street_staff.pk
        assert event.to_stage == Stage.RECEIVED and event.from_stage == ""
        assert event.deadline == stored.stage_deadline
        assert event.data["patrol"] == 12 + n
        assert ("hotline" in event.data) == (source == "hotline")


def test_the_one_statement_number_keeps_its_digits_past_six(tree, street_staff):
    from django.utils import timezone

    from tests.tickets.factories import new_ticket
    from tickets.services import numbers

    year = numbers.number_year(timezone.now())
    numbers.set_year_last(year, 999_999)
    ticket = new_ticket(street_staff, tree)
    assert ticket.number == f"{year}-1000000"
    assert ticket.number == numbers.format_ticket_number(year, 1_000_000)


def test_a_refused_push_inside_a_transaction_leaves_it_usable(tree, street_staff):
    """Inside the caller's transaction the one statement runs in a savepoint:
    the unique 12345 number's refusal does not abort the transaction."""
    from django.db import transaction

    from tests.tickets.factories import new_ticket
    from tickets.models import Ticket

    with transaction.atomic():
        first = new_ticket(street_staff, tree, source="hotline", hotline_number="H-5")
        again = new_ticket(street_staff, tree, source="hotline", hotline_number="H-5")
        assert again.pk == first.pk
        assert Ticket.objects.filter(hotline_number="H-5").count() == 1


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_one_statement_commits_by_itself(tree, street_staff):
    """In autocommit (a Celery task, a script) the statement is its own
    transaction: the ticket is stored, and a refused repeat push makes no
    second ticket and leaves the connection usable."""
    from django.db import connection

    from tests.tickets.factories import new_ticket
    from tickets.models import Ticket

    assert not connection.in_atomic_block
    first = new_ticket(street_staff, tree, source="hotline", hotline_number="H-1")
    again = new_ticket(street_staff, tree, source="hotline", hotline_number="H-1")
    assert again.pk == first.pk
    assert Ticket.objects.filter(hotline_number="H-1").count() == 1
    later = new_ticket(street_staff, tree)
    assert later.number > first.number
