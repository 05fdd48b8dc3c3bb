import io
import random

import pytest
from django.utils import timezone

from tickets import demo
from tickets.choices import ESCALATING_STAGES, Action, Source, Stage
from tickets.models import Category, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_seed_builds_tickets_in_every_stage_once(tree, admin_user):
    out = io.StringIO()
    demo.seed(stdout=out, rng=random.Random(7))
    tickets = Ticket.objects.count()
    assert tickets >= demo.DEMO_TICKETS
    assert set(Ticket.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert set(Ticket.objects.values_list("source", flat=True)) == set(Source.values)
    assert Ticket.objects.filter(escalation_level__gt=0).exists()
    assert Ticket.objects.overdue().exists()
    used = set(Ticket.objects.values_list("category__name", flat=True))
    assert {c.name for c in Category.objects.filter(parent__isnull=False)} <= used
    # Every ticket's log starts with its receipt and ends in its current stage.
    for ticket in Ticket.objects.prefetch_related("events")[:80]:
        events = list(ticket.events.order_by("at", "pk"))
        assert events[0].action == Action.CREATE
        assert [e for e in events if e.from_stage != e.to_stage][
            -1
        ].to_stage == ticket.stage or (ticket.stage == Stage.RECEIVED)
    # Nothing in the future, deadlines set on open stages.
    assert not TicketEvent.objects.filter(at__gt=timezone.now()).exists()
    assert not Ticket.objects.filter(
        stage__in=ESCALATING_STAGES, stage_deadline__isnull=True
    ).exists()
    # A second run changes nothing.
    demo.seed(stdout=out, rng=random.Random(8))
    assert Ticket.objects.count() == tickets
    assert "nothing to do" in out.getvalue()
