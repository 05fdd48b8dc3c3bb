"""The ticket log is append-only: the model, the queryset and (on PostgreSQL) a
trigger refuse to change or delete an event."""

import pytest

from tests.append_only import assert_append_only
from tests.tickets.factories import walk_to
from tickets.choices import Action, Stage

pytestmark = pytest.mark.django_db


def test_ticket_events_are_append_only(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    event = ticket.events.get(action=Action.ACCEPT)
    assert_append_only(event, note="改写的记录")


def test_every_lifecycle_service_runs_with_the_trigger_in_place(lifecycle):
    # A service that updated or deleted an event would fail here on PostgreSQL.
    ticket = walk_to(Stage.CLOSED, **lifecycle)
    actions = list(ticket.events.values_list("action", flat=True))
    assert actions == [
        Action.CREATE,
        Action.TRIAGE,
        Action.DISPATCH,
        Action.ACCEPT,
        Action.HANDLE,
        Action.EVALUATE,
        Action.ASSESS,
    ]
