"""The periodic ticket jobs in short transactions (issue 9, finding 6): bounded
batches, one digest per supervisor and run, and a 接单 that never waits behind a
whole escalation run."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from grids.choices import UserRole
from grids.db import RecordBusy, apply_web_timeouts
from grids.models import Notification
from tests.grids.factories import UserFactory
from tests.tickets.factories import walk_to
from tickets import services
from tickets.choices import Action, Stage, Verdict
from tickets.models import Ticket, TicketEvent
from tickets.services import escalation
from tickets.services.escalation import (
    escalated_list_url,
    tickets_escalate_overdue_run,
)

pytestmark = pytest.mark.django_db

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks and lock_timeout need PostgreSQL",
)


def _bulk_overdue(tree, n, stage=Stage.DISPATCHED):
    now = timezone.now()
    Ticket.objects.bulk_create(
        [
            Ticket(
                source="patrol",
                description=f"超期{i}",
                region=tree["grids"][i % 4],
                handling_region=tree["communities"][(i % 4) // 2],
                stage=stage,
                received_at=now - dt.timedelta(days=3),
                stage_entered_at=now - dt.timedelta(days=2),
                stage_deadline=now - dt.timedelta(hours=1 + i % 5),
            )
            for i in range(n)
        ]
    )


def _digests():
    return Notification.objects.filter(dedupe_key__startswith="escalation:digest:")


def test_escalation_runs_in_bounded_batches_until_none_is_left(tree, supervisor):
    _bulk_overdue(tree, 7)
    escalated, run = tickets_escalate_overdue_run(batch_size=3)
    assert (escalated, run.batches) == (7, 3)
    assert set(Ticket.objects.values_list("escalation_level", flat=True)) == {1}
    assert TicketEvent.objects.filter(action=Action.ESCALATE).count() == 7


def test_the_batch_size_comes_from_the_settings(settings, tree, supervisor):
    settings.TICKETS_ESCALATION_BATCH = 2
    _bulk_overdue(tree, 5)
    escalated, run = tickets_escalate_overdue_run()
    assert (escalated, run.batches) == (5, 3)


def test_supervisors_get_one_digest_per_run_with_the_count_and_a_link(
    client, settings, tree, supervisor, street_staff
):
    settings.TICKETS_ESCALATION_TICKET_NOTICES = 5
    street_supervisor = UserFactory(role=UserRole.SUPERVISOR, region=tree["street"])
    elsewhere = UserFactory(role=UserRole.SUPERVISOR, region=tree["communities"][1])
    _bulk_overdue(tree, 7)
    assert services.tickets_escalate_overdue(batch_size=3) == 7
    digests = _digests()
    # One per supervisor whose scope holds the street, and one for the street's
    # staff, who were told of the first 5 tickets one by one.
    assert sorted(digests.values_list("recipient_id", flat=True)) == sorted(
        [supervisor.pk, street_supervisor.pk, street_staff.pk]
    )
    assert len({d.dedupe_key for d in digests}) == 1
    for digest in digests:
        assert "7" in digest.title
        assert digest.body == f"{tree['street'].name}：7 件"
        assert digest.url == escalated_list_url()
    assert Notification.objects.filter(recipient=supervisor).count() == 1
    assert Notification.objects.filter(recipient=street_staff).count() == 5 + 1
    assert not Notification.objects.filter(recipient=elsewhere).exists()
    # The link lists the escalated overdue tickets, in the reader's scope.
    client.force_login(supervisor)
    response = client.get(digest.url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 7


def test_unit_staff_told_of_every_ticket_get_no_digest(settings, tree, street_staff):
    settings.TICKETS_ESCALATION_TICKET_NOTICES = 20
    _bulk_overdue(tree, 4)
    assert services.tickets_escalate_overdue(batch_size=3) == 4
    assert Notification.objects.filter(recipient=street_staff).count() == 4
    assert not _digests().exists()


def test_escalating_twice_tells_nobody_twice(tree, supervisor, street_staff):
    _bulk_overdue(tree, 5)
    now = timezone.now()
    assert services.tickets_escalate_overdue(now=now, batch_size=2) == 5
    notices = Notification.objects.count()
    events = TicketEvent.objects.count()
    # The same run again, and a later one: nothing is due, nothing is written.
    assert services.tickets_escalate_overdue(now=now, batch_size=2) == 0
    later = now + dt.timedelta(minutes=30)
    assert services.tickets_escalate_overdue(now=later, batch_size=2) == 0
    assert Notification.objects.count() == notices
    assert TicketEvent.objects.count() == events
    assert set(Ticket.objects.values_list("escalation_level", flat=True)) == {1}


def test_a_run_cut_short_is_finished_by_the_next_with_nothing_doubled(
    monkeypatch, tree, supervisor
):
    _bulk_overdue(tree, 5)
    escalate_batch = escalation._escalate_batch
    calls = []

    def die_in_the_second_batch(due, ids, run):
        calls.append(ids)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return escalate_batch(due, ids, run)

    monkeypatch.setattr(escalation, "_escalate_batch", die_in_the_second_batch)
    with pytest.raises(SystemExit):
        services.tickets_escalate_overdue(batch_size=2)
    # The first batch was committed, the second rolled back, no digest sent.
    assert Ticket.objects.filter(escalation_level=1).count() == 2
    assert not _digests().exists()
    monkeypatch.setattr(escalation, "_escalate_batch", escalate_batch)
    assert services.tickets_escalate_overdue(batch_size=2) == 3
    assert set(Ticket.objects.values_list("escalation_level", flat=True)) == {1}
    assert TicketEvent.objects.filter(action=Action.ESCALATE).count() == 5
    assert "3" in _digests().get(recipient=supervisor).title


def test_reminders_run_in_batches_once_per_deadline(lifecycle):
    tickets = [walk_to(Stage.ACCEPTED, **lifecycle) for _i in range(3)]
    at = max(t.remind_at for t in tickets) + dt.timedelta(minutes=1)
    assert services.tickets_send_reminders(now=at, batch_size=2) == 3
    assert services.tickets_send_reminders(now=at, batch_size=2) == 0
    # One message per person and run, written by both batches: the digest.
    (digest,) = Notification.objects.filter(
        recipient=lifecycle["handler"], dedupe_key__startswith="remind:"
    )
    assert "3" in digest.title
    assert all(t.number in digest.body for t in tickets)
    assert digest.url == escalation.reminded_list_url()


def test_a_reminder_digest_lists_its_first_tickets_and_counts_the_rest(
    lifecycle, monkeypatch
):
    monkeypatch.setattr(escalation, "REMINDER_LISTED", 2)
    tickets = [walk_to(Stage.ACCEPTED, **lifecycle) for _i in range(3)]
    at = max(t.remind_at for t in tickets) + dt.timedelta(minutes=1)
    assert services.tickets_send_reminders(now=at, batch_size=1) == 3
    digest = Notification.objects.get(recipient=lifecycle["handler"])
    lines = digest.body.splitlines()
    assert len(lines) == 3
    assert tickets[0].number in lines[0] and "1" in lines[-1]
    assert digest.read_at is None


def test_a_reminder_digest_is_written_by_the_first_batch_that_names_the_person(
    lifecycle,
):
    """The first batch that reminds a person writes their digest in its own
    transaction: a run cut short after it has told them."""
    tickets = [walk_to(Stage.ACCEPTED, **lifecycle) for _i in range(2)]
    at = max(t.remind_at for t in tickets) + dt.timedelta(minutes=1)
    run = escalation.ReminderRun(at)
    rows = list(
        Ticket.objects.filter(pk=tickets[0].pk).values(
            "pk",
            "number",
            "stage",
            "stage_deadline",
            "handler_id",
            "handling_region_id",
            "handling_department_id",
            "responsible_leader_id",
            "created_by_id",
        )
    )
    escalation._remind_batch(Ticket.objects.all(), rows, run)
    note = Notification.objects.get(recipient=lifecycle["handler"])
    assert tickets[0].number in note.title
    # The rest, by a later run: its own message.
    assert services.tickets_send_reminders(now=at + dt.timedelta(minutes=5)) == 1
    assert Notification.objects.filter(recipient=lifecycle["handler"]).count() == 2


def test_a_person_s_digest_is_written_at_most_twice_a_run(lifecycle):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tickets = [walk_to(Stage.ACCEPTED, **lifecycle) for _i in range(5)]
    at = max(t.remind_at for t in tickets) + dt.timedelta(minutes=1)
    with CaptureQueriesContext(connection) as captured:
        assert services.tickets_send_reminders(now=at, batch_size=1) == 5
    writes = [
        q for q in captured if q["sql"].startswith("INSERT INTO grids_notification")
    ]
    assert len(writes) == 2  # the first batch's, and the run's end
    digest = Notification.objects.get(recipient=lifecycle["handler"])
    assert "5" in digest.title


def test_the_due_soon_list_holds_the_reminded_tickets(lifecycle):
    from tickets.selectors import ticket_list

    reminded, _other = (walk_to(Stage.ACCEPTED, **lifecycle) for _i in range(2))
    Ticket.objects.filter(pk=reminded.pk).update(
        reminded_for_deadline=reminded.stage_deadline
    )
    listed = ticket_list(actor=lifecycle["handler"], filters={"due_soon": True})
    assert list(listed) == [reminded]


def test_unevaluated_marking_runs_in_batches_once(lifecycle):
    tickets = [walk_to(Stage.HANDLED, **lifecycle) for _i in range(3)]
    later = max(t.stage_deadline for t in tickets) + dt.timedelta(minutes=1)
    assert services.tickets_mark_unevaluated(now=later, batch_size=2) == 3
    assert services.tickets_mark_unevaluated(now=later, batch_size=2) == 0
    assert set(Ticket.objects.values_list("verdict", flat=True)) == {
        Verdict.UNEVALUATED
    }
    assert TicketEvent.objects.filter(action=Action.UNEVALUATED).count() == 3


@pytest.mark.django_db(transaction=True)
@needs_postgresql
def test_accept_during_an_escalation_run_is_not_held_behind_it(
    settings, monkeypatch, lifecycle, supervisor
):
    """While one batch of an escalation run holds its rows, a 接单 on an overdue
    ticket outside that batch goes through; one on a ticket inside it is refused
    as busy when the web lock timeout runs out, with nothing written."""
    settings.WEB_DB_LOCK_TIMEOUT_MS = 200
    tickets = [walk_to(Stage.DISPATCHED, **lifecycle) for _i in range(6)]
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(
        stage_deadline=timezone.now() - dt.timedelta(hours=1)
    )
    holding, release = threading.Event(), threading.Event()
    batches, outcome = [], {}
    escalate_batch = escalation._escalate_batch

    def hold_the_first_batch(due, ids, run):
        batches.append(list(ids))
        if len(batches) == 1:
            holding.set()
            release.wait(timeout=60)
        return escalate_batch(due, ids, run)

    monkeypatch.setattr(escalation, "_escalate_batch", hold_the_first_batch)

    def run():
        try:
            outcome["escalated"] = services.tickets_escalate_overdue(batch_size=2)
        except Exception as exc:  # reported below, in the test's thread
            outcome["error"] = exc
        finally:
            release.set()
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert holding.wait(timeout=60), outcome
        in_batch, outside = tickets[0], tickets[-1]
        assert batches[0] == [tickets[0].pk, tickets[1].pk]
        # This thread is a web request: it has the web lock timeout.
        assert apply_web_timeouts()
        accepted = services.ticket_accept(
            actor=lifecycle["community_staff"],
            ticket_id=outside.pk,
            handler=lifecycle["handler"],
        )
        assert accepted.stage == Stage.ACCEPTED
        with pytest.raises(RecordBusy) as refused:
            services.ticket_accept(
                actor=lifecycle["community_staff"],
                ticket_id=in_batch.pk,
                handler=lifecycle["handler"],
            )
        assert refused.value.code == "busy" and refused.value.status == 409
    finally:
        release.set()
        worker.join(timeout=60)
        connection.close()  # drop this connection's web timeouts
    assert "error" not in outcome, outcome
    # Everything overdue escalated except the ticket accepted in between (it
    # has a new deadline now); the busy one is still waiting to be accepted.
    assert outcome["escalated"] == 5
    outside.refresh_from_db()
    in_batch.refresh_from_db()
    assert outside.stage == Stage.ACCEPTED and outside.escalation_level == 0
    assert in_batch.stage == Stage.DISPATCHED and in_batch.escalation_level == 1
    assert not in_batch.events.filter(action=Action.ACCEPT).exists()
    assert outside.events.filter(action=Action.ACCEPT).count() == 1


@pytest.mark.django_db(transaction=True)
@needs_postgresql
def test_accept_on_a_locked_ticket_in_the_admin_says_busy(client, settings, lifecycle):
    settings.WEB_DB_LOCK_TIMEOUT_MS = 200
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    holding, release = threading.Event(), threading.Event()

    def hold():
        from django.db import transaction

        try:
            with transaction.atomic():
                Ticket.objects.select_for_update().get(pk=ticket.pk)
                holding.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    locker = threading.Thread(target=hold)
    locker.start()
    try:
        assert holding.wait(timeout=60)
        client.force_login(lifecycle["community_staff"])
        response = client.post(
            reverse("admin:tickets_ticket_action", args=[ticket.pk, Action.ACCEPT]),
            {"accept-handler": lifecycle["handler"].pk, "accept-note": "马上去"},
        )
    finally:
        release.set()
        locker.join(timeout=60)
        connection.close()  # drop this connection's web timeouts
    assert response.status_code == 200
    assert "正在被他人修改" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.stage == Stage.DISPATCHED
    assert not ticket.events.filter(action=Action.ACCEPT).exists()


def _escalation_peak(tree, overdue: int, batch_size: int) -> tuple[int, int]:
    """(escalated, peak bytes Python allocated during the run)."""
    import tracemalloc

    _bulk_overdue(tree, overdue)
    tracemalloc.start()
    try:
        escalated = services.tickets_escalate_overdue(batch_size=batch_size)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return escalated, peak


def test_escalation_memory_does_not_grow_with_the_backlog(tree, supervisor):
    """Four times the backlog, the same batch: the peak stays within a small
    factor (it held the whole backlog's rows, events and notices before)."""
    _escalation_peak(tree, 10, batch_size=100)  # imports, catalogues, caches
    small = _escalation_peak(tree, 300, batch_size=100)
    large = _escalation_peak(tree, 1200, batch_size=100)
    assert (small[0], large[0]) == (300, 1200)
    assert large[1] < 1.5 * small[1], (small, large)
