"""The indicator columns (first 派单/接单/做单, 及时签收, the 做单 promise, 返工,
closing level) are written by the services in the transition's transaction, and
the backfill migration computes the same values from the event log."""

import importlib

import pytest
import time_machine
from django.db import connection

from grids.choices import UserRole
from tests.grids.factories import UserFactory
from tests.tickets.factories import aware, walk_to
from tickets import services
from tickets.choices import ClosingLevel, Stage, Verdict
from tickets.models import Ticket

COLUMNS = (
    "dispatched_at",
    "accepted_at",
    "accepted_on_time",
    "handling_due_at",
    "handled_at",
    "rework_count",
    "closing_level",
)

backfill = importlib.import_module(
    "tickets.migrations.0013_ticket_indicator_columns_backfill"
)


def _walk(stage, lifecycle, at):
    with time_machine.travel(at, tick=False):
        return walk_to(stage, **lifecycle)


def test_dispatch_sets_dispatched_at_once(lifecycle):
    ticket = _walk(Stage.DISPATCHED, lifecycle, aware(2026, 11, 2, 9, 0))
    assert ticket.dispatched_at == aware(2026, 11, 2, 9, 0)
    assert ticket.accepted_at is None and ticket.accepted_on_time is None


def test_accept_in_time_sets_accepted_and_handling_due(lifecycle, community_staff):
    ticket = _walk(Stage.DISPATCHED, lifecycle, aware(2026, 11, 2, 9, 0))
    with time_machine.travel(aware(2026, 11, 2, 15, 0), tick=False):
        services.ticket_accept(
            actor=community_staff, ticket_id=ticket.pk, handler=lifecycle["handler"]
        )
    ticket.refresh_from_db()
    assert ticket.accepted_at == aware(2026, 11, 2, 15, 0)
    assert ticket.accepted_on_time is True
    assert ticket.handling_due_at == ticket.stage_deadline


def test_accept_after_the_limit_is_not_in_time(lifecycle, community_staff):
    ticket = _walk(Stage.DISPATCHED, lifecycle, aware(2026, 11, 2, 9, 0))
    assert ticket.stage_deadline < aware(2026, 11, 5, 9, 0)
    with time_machine.travel(aware(2026, 11, 5, 9, 0), tick=False):
        services.ticket_accept(
            actor=community_staff, ticket_id=ticket.pk, handler=lifecycle["handler"]
        )
    ticket.refresh_from_db()
    assert ticket.accepted_on_time is False


def test_report_up_keeps_the_first_acceptance(lifecycle, community_staff, tree):
    ticket = _walk(Stage.ACCEPTED, lifecycle, aware(2026, 11, 2, 9, 0))
    first = ticket.accepted_at
    with time_machine.travel(aware(2026, 11, 3, 9, 0), tick=False):
        services.ticket_report_up(
            actor=lifecycle["handler"], ticket_id=ticket.pk, reason="需街道协调"
        )
        services.ticket_accept(
            actor=lifecycle["street_staff"],
            ticket_id=ticket.pk,
            handler=lifecycle["street_staff"],
        )
    ticket.refresh_from_db()
    assert ticket.accepted_at == first
    assert ticket.report_up_count == 1


def test_handle_sets_handled_at_and_rework_counts(lifecycle, community_staff):
    ticket = _walk(Stage.HANDLED, lifecycle, aware(2026, 11, 2, 9, 0))
    assert ticket.handled_at == aware(2026, 11, 2, 9, 0)
    with time_machine.travel(aware(2026, 11, 3, 9, 0), tick=False):
        services.ticket_record_phone_verdict(
            actor=community_staff,
            ticket_id=ticket.pk,
            verdict=Verdict.DISSATISFIED,
            call_note="不满意",
        )
    ticket.refresh_from_db()
    assert ticket.rework_count == 1 and ticket.stage == Stage.ACCEPTED
    with time_machine.travel(aware(2026, 11, 4, 9, 0), tick=False):
        services.ticket_handle(
            actor=lifecycle["handler"], ticket_id=ticket.pk, result="再次清理"
        )
    ticket.refresh_from_db()
    assert ticket.handled_at == aware(2026, 11, 2, 9, 0)


def test_assess_by_grid_worker_closes_in_the_grid(lifecycle):
    ticket = _walk(Stage.CLOSED, lifecycle, aware(2026, 11, 2, 9, 0))
    assert ticket.closing_level == ClosingLevel.GRID
    assert ticket.closed_at == aware(2026, 11, 2, 9, 0)


def test_assess_by_community_staff_closes_in_the_community(lifecycle, tree):
    staff_handler = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0]
    )
    ticket = _walk(
        Stage.CLOSED, {**lifecycle, "handler": staff_handler}, aware(2026, 11, 2, 9)
    )
    assert ticket.closing_level == ClosingLevel.COMMUNITY


def test_not_closed_has_no_closing_level(lifecycle):
    ticket = _walk(Stage.EVALUATED, lifecycle, aware(2026, 11, 2, 9, 0))
    assert ticket.closing_level == ""


def _columns():
    return {
        row["pk"]: row for row in Ticket.objects.order_by("pk").values("pk", *COLUMNS)
    }


def test_backfill_equals_what_the_services_write(lifecycle, community_staff, tree):
    for stage in (Stage.RECEIVED, Stage.DISPATCHED, Stage.ACCEPTED, Stage.CLOSED):
        _walk(stage, lifecycle, aware(2026, 11, 2, 9, 0))
    late = _walk(Stage.DISPATCHED, lifecycle, aware(2026, 11, 2, 9, 0))
    with time_machine.travel(aware(2026, 11, 6, 9, 0), tick=False):
        services.ticket_accept(
            actor=community_staff, ticket_id=late.pk, handler=lifecycle["handler"]
        )
    reworked = _walk(Stage.HANDLED, lifecycle, aware(2026, 11, 2, 9, 0))
    with time_machine.travel(aware(2026, 11, 3, 9, 0), tick=False):
        services.ticket_record_phone_verdict(
            actor=community_staff,
            ticket_id=reworked.pk,
            verdict=Verdict.DISSATISFIED,
            call_note="不满意",
        )
        services.ticket_report_up(
            actor=lifecycle["handler"], ticket_id=reworked.pk, reason="需街道协调"
        )
        street_staff = lifecycle["street_staff"]
        services.ticket_accept(
            actor=street_staff, ticket_id=reworked.pk, handler=street_staff
        )
        services.ticket_handle(actor=street_staff, ticket_id=reworked.pk, result="好")
        services.ticket_record_phone_verdict(
            actor=street_staff,
            ticket_id=reworked.pk,
            verdict=Verdict.SATISFIED,
            call_note="满意",
        )
        services.ticket_assess(
            actor=street_staff,
            ticket_id=reworked.pk,
            satisfaction_score=100,
            timeliness_score=100,
            effect_score=100,
        )
    written = _columns()
    assert written[reworked.pk]["closing_level"] == ClosingLevel.STREET
    assert written[late.pk]["accepted_on_time"] is False
    Ticket.objects.update(
        dispatched_at=None,
        accepted_at=None,
        accepted_on_time=None,
        handling_due_at=None,
        handled_at=None,
        rework_count=0,
        closing_level="",
    )

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    backfill.fill(None, editor)
    assert _columns() == written


@pytest.mark.parametrize("stage", [Stage.HANDLED, Stage.CLOSED])
def test_backfill_is_idempotent(lifecycle, stage):
    _walk(stage, lifecycle, aware(2026, 11, 2, 9, 0))
    written = _columns()

    class Editor:
        connection = None

    editor = Editor()
    editor.connection = connection
    backfill.fill(None, editor)
    backfill.fill(None, editor)
    assert _columns() == written
