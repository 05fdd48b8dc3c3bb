import datetime as dt
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grids.choices import UserRole
from grids.models import Notification
from tests.grids.factories import UserFactory
from tests.tickets.factories import walk_to
from tickets import services
from tickets.choices import Action, Stage
from tickets.models import Ticket, TicketEvent
from tickets.services.escalation import tickets_escalate_overdue_run

pytestmark = pytest.mark.django_db


def _overdue(ticket, hours=1):
    Ticket.objects.filter(pk=ticket.pk).update(
        stage_deadline=timezone.now() - dt.timedelta(hours=hours)
    )


def test_overdue_ticket_escalates_one_level_and_only_once(lifecycle, supervisor):
    street_supervisor = UserFactory(
        role=UserRole.SUPERVISOR, region=lifecycle["tree"]["street"]
    )
    elsewhere = UserFactory(
        role=UserRole.SUPERVISOR, region=lifecycle["tree"]["grids"][3]
    )
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    fresh = walk_to(Stage.ACCEPTED, **lifecycle)
    _overdue(ticket)
    assert services.tickets_escalate_overdue() == 1
    assert services.tickets_escalate_overdue() == 0  # idempotent
    ticket.refresh_from_db()
    fresh.refresh_from_db()
    assert ticket.escalation_level == 1
    # From its handling community one level up: the street.
    assert ticket.escalated_to == lifecycle["tree"]["street"]
    assert fresh.escalation_level == 0
    event = ticket.events.get(action=Action.ESCALATE)
    assert event.data["level"] == 1 and event.actor is None
    told_of_the_ticket = set(
        Notification.objects.filter(
            dedupe_key=f"ticket:{ticket.pk}:escalation:1"
        ).values_list("recipient_id", flat=True)
    )
    # The street's own staff are told of the ticket itself ...
    assert told_of_the_ticket == {lifecycle["street_staff"].pk}
    # ... the supervisors whose scope holds the street get the run's digest.
    digests = Notification.objects.filter(dedupe_key__startswith="escalation:digest:")
    assert set(digests.values_list("recipient_id", flat=True)) == {
        supervisor.pk,
        street_supervisor.pk,
    }
    assert elsewhere.pk not in set(
        Notification.objects.values_list("recipient_id", flat=True)
    )


def test_escalation_recipients_are_selected_in_sql_per_node(
    tree, other_tree, supervisor, street_staff, django_assert_num_queries
):
    from tickets.services.escalation import _escalation_recipients

    street_supervisor = UserFactory(role=UserRole.SUPERVISOR, region=tree["street"])
    community = tree["communities"][0]
    community_supervisor = UserFactory(role=UserRole.SUPERVISOR, region=community)
    community_staff = UserFactory(role=UserRole.COMMUNITY_STAFF, region=community)
    # Not above either node: a sibling community, a grid, another district.
    UserFactory(role=UserRole.SUPERVISOR, region=tree["communities"][1])
    UserFactory(role=UserRole.SUPERVISOR, region=tree["grids"][0])
    for _i in range(5):
        UserFactory(role=UserRole.SUPERVISOR, region=other_tree["district"])
    UserFactory(role=UserRole.SUPERVISOR, region=tree["street"], is_active=False)

    def row(node):
        return {
            "escalated_to_id": node.pk,
            "escalated_to__tree_id": node.tree_id,
            "escalated_to__lft": node.lft,
            "escalated_to__rght": node.rght,
        }

    rows = [row(tree["street"]), row(community), row(community)]
    with django_assert_num_queries(1) as ctx:
        recipients = _escalation_recipients(rows)
    street = recipients[tree["street"].pk]
    assert set(street.supervisors) == {supervisor.pk, street_supervisor.pk}
    assert street.staff == [street_staff.pk]
    assert set(recipients[community.pk].supervisors) == {
        supervisor.pk,
        street_supervisor.pk,
        community_supervisor.pk,
    }
    assert recipients[community.pk].staff == [community_staff.pk]
    # Only qualifying supervisors are read, not the province's.
    assert '"lft" <=' in ctx.captured_queries[0]["sql"]


def test_a_new_deadline_passing_escalates_again_one_more_level(lifecycle):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    _overdue(ticket, hours=2)
    services.tickets_escalate_overdue()
    # Still overdue for the same deadline: nothing.
    assert services.tickets_escalate_overdue() == 0
    # The unit returns it, a new deadline passes: escalate again, one more level.
    services.ticket_return(
        actor=lifecycle["community_staff"], ticket_id=ticket.pk, reason="不归我们"
    )
    _overdue(ticket, hours=1)
    assert services.tickets_escalate_overdue() == 1
    ticket.refresh_from_db()
    assert ticket.escalation_level == 2
    assert ticket.escalated_to == lifecycle["tree"]["district"]
    assert ticket.events.filter(action=Action.ESCALATE).count() == 2


def test_escalation_stops_at_the_root(lifecycle):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    Ticket.objects.filter(pk=ticket.pk).update(
        escalated_to=lifecycle["tree"]["district"],
        stage_deadline=timezone.now() - dt.timedelta(hours=1),
    )
    assert services.tickets_escalate_overdue() == 1
    ticket.refresh_from_db()
    assert ticket.escalated_to == lifecycle["tree"]["district"]


def test_handled_and_closed_tickets_never_escalate(lifecycle):
    handled = walk_to(Stage.HANDLED, **lifecycle)
    closed = walk_to(Stage.CLOSED, **lifecycle)
    Ticket.objects.filter(pk__in=[handled.pk, closed.pk]).update(
        stage_deadline=timezone.now() - dt.timedelta(days=1)
    )
    assert services.tickets_escalate_overdue() == 0


def _bulk_overdue(tree, n):
    now = timezone.now()
    Ticket.objects.bulk_create(
        [
            Ticket(
                source="patrol",
                description=f"超期{i}",
                region=tree["grids"][i % 4],
                handling_region=tree["communities"][(i % 4) // 2],
                stage=Stage.DISPATCHED,
                received_at=now - dt.timedelta(days=3),
                stage_entered_at=now - dt.timedelta(days=2),
                stage_deadline=now - dt.timedelta(hours=1 + i % 5),
            )
            for i in range(n)
        ]
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite splits a bulk insert into batches of 999 "
    "parameters, so the statement count grows with the rows",
)
def test_escalation_runs_a_fixed_number_of_queries_per_batch(tree, supervisor):
    UserFactory(role=UserRole.SUPERVISOR, region=tree["street"])
    counts = []
    for n, batch_size in ((10, 1000), (1000, 2000), (1000, 250), (1000, 100)):
        # The log is append-only: earlier rounds stay, already escalated.
        events_before = TicketEvent.objects.filter(action=Action.ESCALATE).count()
        _bulk_overdue(tree, n)
        with CaptureQueriesContext(connection) as ctx:
            escalated, run = tickets_escalate_overdue_run(batch_size=batch_size)
        assert escalated == n
        counts.append((len(ctx.captured_queries), run.batches))
        escalations = TicketEvent.objects.filter(action=Action.ESCALATE).count()
        assert escalations - events_before == n
        # One digest per supervisor, however many tickets.
        assert Notification.objects.count() == 2
        Notification.objects.all().delete()
    (small, _one), (large, _one), (four, _four), (ten, _ten) = counts
    assert [batches for _count, batches in counts] == [1, 1, 4, 10]
    # The same statements for 10 tickets as for 1,000 in one batch ...
    assert small == large <= 10
    # ... and each further batch adds the same few.
    per_batch, remainder = divmod(ten - four, 10 - 4)
    assert remainder == 0 and per_batch <= 8


def test_escalation_query_count_is_bounded(
    tree, supervisor, django_assert_max_num_queries
):
    _bulk_overdue(tree, 30)
    with django_assert_max_num_queries(10):
        assert services.tickets_escalate_overdue() == 30


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)
def test_two_workers_escalating_at_once_escalate_each_ticket_once(tree, supervisor):
    _bulk_overdue(tree, 200)
    barrier = threading.Barrier(2)
    done = []

    def run():
        try:
            barrier.wait(timeout=10)
            done.append(services.tickets_escalate_overdue())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(done) == 200
    assert set(Ticket.objects.values_list("escalation_level", flat=True)) == {1}
    assert TicketEvent.objects.filter(action=Action.ESCALATE).count() == 200


def test_reminder_before_deadline_once(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    assert ticket.remind_at < ticket.stage_deadline
    assert (
        services.tickets_send_reminders(now=ticket.remind_at - dt.timedelta(minutes=1))
        == 0
    )
    at = ticket.remind_at + dt.timedelta(minutes=1)
    assert services.tickets_send_reminders(now=at) == 1
    assert services.tickets_send_reminders(now=at) == 0
    note = Notification.objects.get(recipient=lifecycle["handler"])
    assert ticket.number in note.title


def test_reminder_for_a_dispatched_ticket_goes_to_the_unit(lifecycle):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    assert services.tickets_send_reminders(now=ticket.remind_at) == 1
    assert Notification.objects.filter(recipient=lifecycle["community_staff"]).exists()


def test_reminder_default_is_four_working_hours(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    local = timezone.localtime(ticket.remind_at)
    assert (local.hour, local.minute) == (13, 30)


def test_overdue_triage_escalates_above_the_street_centre(lifecycle):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    assert ticket.holder_region == lifecycle["tree"]["street"]
    _overdue(ticket)
    assert services.tickets_escalate_overdue() == 1
    ticket.refresh_from_db()
    assert ticket.escalated_to == lifecycle["tree"]["district"]


def test_holder_follows_the_ticket(lifecycle):
    tree = lifecycle["tree"]
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    assert ticket.holder_region == tree["communities"][0]
    services.ticket_accept(
        actor=lifecycle["community_staff"],
        ticket_id=ticket.pk,
        handler=lifecycle["handler"],
    )
    services.ticket_report_up(
        actor=lifecycle["handler"], ticket_id=ticket.pk, reason="难"
    )
    ticket.refresh_from_db()
    assert ticket.holder_region == tree["street"]


def test_reminder_filter_has_a_partial_index_on_remind_at():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, Ticket._meta.db_table
        )
    index = constraints["ticket_remind_at_open"]
    assert index["index"] and index["columns"] == ["remind_at"]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="one statement per batch is PostgreSQL's (SQLite runs three)",
)
def test_each_escalation_batch_is_a_lock_and_one_statement(tree, supervisor):
    """A batch is its SELECT … FOR UPDATE SKIP LOCKED and one statement that
    updates, logs and counts (``WITH … UPDATE … RETURNING … INSERT … SELECT``);
    the accounts are read once per run for the nodes, the digest is one INSERT."""
    _bulk_overdue(tree, 1000)
    with CaptureQueriesContext(connection) as ctx:
        escalated, run = tickets_escalate_overdue_run(batch_size=100)
    assert (escalated, run.batches) == (1000, 10)
    statements = [
        q["sql"]
        for q in ctx.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    locks = [
        s
        for s in statements
        if s.endswith('FOR UPDATE OF "tickets_ticket" SKIP LOCKED')
    ]
    batches = [
        s for s in statements if s.startswith('WITH "tickets_ticket" AS (UPDATE')
    ]
    assert (len(locks), len(batches)) == (10, 10)
    assert all('INSERT INTO "tickets_ticketevent"' in s for s in batches)
    others = [s for s in statements if s not in locks and s not in batches]
    # The due ids' cursor, the accounts of the one node (read once per run, not
    # per batch), the digest.
    assert len(others) == 3, others
    assert others[0].startswith("DECLARE")
    assert others[1].startswith('SELECT "grids_user"')
    assert others[2].startswith('INSERT INTO "grids_notification"')


def test_escalation_events_are_written_by_the_database_as_before(lifecycle):
    """The event row the batch's SQL writes: the stage, the deadline (also in
    ``data`` as Python's isoformat, microseconds and all), the level and node."""
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    deadline = timezone.now() - dt.timedelta(hours=1, microseconds=-123450)
    Ticket.objects.filter(pk=ticket.pk).update(stage_deadline=deadline)
    whole = walk_to(Stage.DISPATCHED, **lifecycle)
    whole_deadline = deadline.replace(microsecond=0)
    Ticket.objects.filter(pk=whole.pk).update(stage_deadline=whole_deadline)
    now = timezone.now()
    assert services.tickets_escalate_overdue(now=now) == 2
    event = TicketEvent.objects.get(ticket=ticket, action=Action.ESCALATE)
    assert (event.actor_id, event.actor_label, event.at) == (None, "system", now)
    assert event.from_stage == event.to_stage == Stage.DISPATCHED
    assert event.deadline == deadline and event.note == ""
    assert event.data == {
        "level": 1,
        "to_region": lifecycle["tree"]["street"].pk,
        "deadline": deadline.astimezone(dt.UTC).isoformat(),
    }
    whole_event = TicketEvent.objects.get(ticket=whole, action=Action.ESCALATE)
    assert whole_event.data["deadline"] == whole_deadline.astimezone(dt.UTC).isoformat()
    assert (
        whole_event.data["deadline"].endswith(":00+00:00")
        or "." not in (whole_event.data["deadline"])
    )


def test_escalation_changes_are_the_update_the_batch_runs(tree, supervisor):
    """The SET list lives in ``escalation_changes``: every column it names is
    in the batch's UPDATE (a column added there is written by the batch)."""
    from tickets.services.escalation import escalation_changes

    _bulk_overdue(tree, 3)
    with CaptureQueriesContext(connection) as ctx:
        assert services.tickets_escalate_overdue() == 3
    (update,) = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith(("UPDATE", 'WITH "tickets_ticket" AS (UPDATE'))
    ]
    set_list = update.split(" SET ", 1)[1].split(" WHERE ", 1)[0]
    for field in escalation_changes():
        column = Ticket._meta.get_field(field.removesuffix("_id")).column
        assert f'"{column}" =' in set_list


def test_staff_told_of_each_ticket_up_to_the_bound_across_batches(
    settings, tree, street_staff
):
    """The per-ticket messages are bounded per run, not per batch: 3 and 3 in
    two batches with a bound of 4 tell of 4 tickets, then the digest."""
    settings.TICKETS_ESCALATION_TICKET_NOTICES = 4
    _bulk_overdue(tree, 6)
    assert services.tickets_escalate_overdue(batch_size=3) == 6
    told = Notification.objects.filter(
        recipient=street_staff, dedupe_key__contains=":escalation:"
    )
    # Four different tickets (the first batch's three, one of the second's).
    assert told.count() == len(set(told.values_list("dedupe_key", flat=True))) == 4
    digest = Notification.objects.get(
        recipient=street_staff, dedupe_key__startswith="escalation:digest:"
    )
    assert "6" in digest.title


def test_no_ticket_index_holds_a_column_escalation_writes():
    """Escalation's UPDATE can stay HOT: no index of the ticket table (its
    columns or its partial condition, e.g. ``ticket_overdue_district``) names a
    column that ``escalation_changes`` sets."""
    from tickets.services.escalation import escalation_changes

    written = {
        Ticket._meta.get_field(field.removesuffix("_id")).column
        for field in escalation_changes()
    }
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, Ticket._meta.db_table
        )
    for name, constraint in constraints.items():
        if constraint["index"] or constraint["unique"]:
            assert not written & set(constraint["columns"] or ()), name

    def lookups(q):
        for child in q.children:
            if isinstance(child, tuple):
                yield child[0].split("__")[0]
            else:
                yield from lookups(child)

    for index in Ticket._meta.indexes:
        if index.condition is not None:
            columns = {
                Ticket._meta.get_field(name).column for name in lookups(index.condition)
            }
            assert not written & columns, index.name
