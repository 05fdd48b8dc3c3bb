import io
import random

import pytest
from django.utils import timezone

from grids.choices import UserRole
from tests.grids.factories import UserFactory
from tickets import demo
from tickets.choices import ESCALATING_STAGES, Action, Source, Stage
from tickets.models import Category, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_seed_builds_tickets_in_every_stage_once(tree, admin_user):
    worker = UserFactory(role=UserRole.GRID_WORKER, region=tree["grids"][0])
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
    # 派单 is the named leader's; the escalations are the job's.
    dispatches = TicketEvent.objects.filter(action=Action.DISPATCH)
    assert dispatches.exists()
    for event in dispatches.select_related("ticket"):
        assert event.actor_id == event.ticket.responsible_leader_id
    assert not TicketEvent.objects.filter(
        action=Action.ESCALATE, actor__isnull=False
    ).exists()
    # Tickets in a grid with a grid worker's account are handled by that worker.
    in_grid = Ticket.objects.filter(
        region__tree_id=tree["grids"][0].tree_id,
        region__lft__gte=tree["grids"][0].lft,
        region__rght__lte=tree["grids"][0].rght,
        handling_region=tree["communities"][0],
        handler__isnull=False,
    )
    assert in_grid.exists()
    assert set(in_grid.values_list("handler", flat=True)) == {worker.pk}
    # Merged tickets point to an open-or-later survivor and keep a holder.
    merged = Ticket.objects.filter(stage=Stage.MERGED)
    assert merged.exists()
    assert not merged.filter(merged_into__isnull=True).exists()
    assert not merged.filter(holder_region__isnull=True).exists()
    # A second run changes nothing.
    demo.seed(stdout=out, rng=random.Random(8))
    assert Ticket.objects.count() == tickets
    assert "nothing to do" in out.getvalue()
