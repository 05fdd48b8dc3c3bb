"""Periodic, set-based passes over every ticket: escalation past a deadline
(超期升级) and reminders before it.

Each pass works in short transactions of at most ``TICKETS_ESCALATION_BATCH``
tickets (``batches.in_locked_batches``), so a user's 接单 never waits behind a
whole backlog; each batch runs a fixed number of SQL statements however many
tickets it touches. A pass is idempotent: a ticket escalates once per deadline
value (``escalated_for_deadline``) and is reminded once per deadline
(``reminded_for_deadline``). Two workers running at once do not collide: rows are
taken with ``SELECT … FOR UPDATE SKIP LOCKED`` and the UPDATE repeats the
condition, so a row another worker escalated in between no longer matches.

Who is told of an escalation: the supervisors whose scope holds the node get one
digest per run (how many, where, and a link to the list of escalated overdue
tickets), never one message per ticket; the node's own staff get a message per
ticket, at most ``TICKETS_ESCALATION_TICKET_NOTICES`` per run, and the digest
when there were more. The event row per ticket is the history. A run cut short
(its worker killed) keeps the batches it committed and sends no digest; the rerun
escalates the rest and its digest counts those, while the digest's link lists
every escalated overdue ticket either way.
"""

import datetime as dt
import functools
from collections import Counter, defaultdict
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db.models import (
    CharField,
    Count,
    DateTimeField,
    Expression,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, JSONObject, RowNumber, Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grids.choices import UserRole
from grids.models import Region
from grids.notifications import notify_latest, notify_many

from ..choices import ESCALATING_STAGES, Action, Stage
from ..models import Ticket, TicketEvent
from ..permissions import UNIT_ROLES
from .batches import Insert, in_locked_batches, update_batch
from .common import setting


def _due_for_escalation(now):
    return (
        Ticket.objects.filter(stage__in=ESCALATING_STAGES, stage_deadline__lt=now)
        # NULL-safe: a ticket never escalated, or escalated for an older deadline.
        .exclude(escalated_for_deadline=F("stage_deadline"))
    )


class EscalationRun:
    """What one run escalated, per node and per person told, for the digest."""

    def __init__(self, now: dt.datetime, ticket_notices: int):
        self.now = now
        self.ticket_notices = ticket_notices  # per-ticket messages per staff member
        self.batches = 0
        self.per_node = Counter()  # node id -> tickets escalated to it
        self.node_names = {}
        self.digest_for = defaultdict(set)  # account id -> nodes in its digest
        self.staff_told = Counter()  # staff account id -> per-ticket messages
        self.staff_untold = set()  # staff who were not told of every ticket
        self.recipients = {}  # node id -> NodeRecipients, read once per run

    def dedupe_key(self) -> str:
        return f"escalation:digest:{self.now.isoformat()}"


def tickets_escalate_overdue(
    *, now: dt.datetime | None = None, batch_size: int | None = None
) -> int:
    """Escalate every ticket past its stage deadline one level up the Region tree,
    tell the node (see the module docstring), and log it; batch by batch, each
    batch its own transaction. Returns how many escalated."""
    return tickets_escalate_overdue_run(now=now, batch_size=batch_size)[0]


def tickets_escalate_overdue_run(
    *, now: dt.datetime | None = None, batch_size: int | None = None
) -> tuple[int, EscalationRun]:
    """``tickets_escalate_overdue`` that also returns the run (batches, counts)."""
    now = now or timezone.now()
    run = EscalationRun(now, setting("TICKETS_ESCALATION_TICKET_NOTICES", 20))
    escalated, run.batches = in_locked_batches(
        lambda: _due_for_escalation(now),
        lambda due, rows: _escalate_batch(due, [row["pk"] for row in rows], run),
        size=batch_size,
    )
    _send_digests(run)
    return escalated, run


# --- The rule, stated once --------------------------------------------------
# ``_due_for_escalation`` (which tickets), ``escalation_changes`` (what the
# UPDATE sets) and ``escalation_event`` (the event row per ticket) are Django
# expressions compiled into the batch's SQL on every database; there is no
# second, hand-written copy of them.


def escalation_changes() -> dict[str, Expression]:
    """The escalation UPDATE's SET list: column -> new value, as expressions
    over the ticket's row before the update. A column an escalation must also
    set is one more entry here (keep the written columns out of every index,
    so that the UPDATE stays HOT: docs/architecture.md, "Ticket indexes")."""
    # One level up from where it waits: the node it was escalated to before,
    # else where it is held (the triage centre's street before dispatch, the
    # handling unit after), else its place. The root stays the root.
    current = Coalesce(
        "escalated_to_id", "holder_region_id", "handling_region_id", "region_id"
    )
    parent = Subquery(
        Region.objects.filter(
            pk=Coalesce(
                OuterRef("escalated_to_id"),
                OuterRef("holder_region_id"),
                OuterRef("handling_region_id"),
                OuterRef("region_id"),
            )
        ).values("parent_id")[:1]
    )
    return {
        "escalation_level": F("escalation_level") + 1,
        "escalated_for_deadline": F("stage_deadline"),
        "escalated_to_id": Coalesce(parent, current),
    }


class IsoUtc(Func):
    """A UTC timestamp as Python's ``datetime.isoformat()`` writes it
    (``2026-11-18T07:00:00+00:00``, microseconds only when there are any), so
    that an event's ``data`` reads the same whichever database wrote it."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra_context):
        # SQLite keeps a UTC timestamp as "YYYY-MM-DD HH:MM:SS[.ffffff]".
        return super().as_sql(
            compiler,
            connection,
            template="(REPLACE(%(expressions)s, ' ', 'T') || '+00:00')",
            **extra_context,
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        template = (
            "(TO_CHAR(%(expressions)s AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
            "MOD(EXTRACT(MICROSECONDS FROM %(expressions)s)::int, 1000000) = 0 "
            "THEN '' ELSE TO_CHAR(%(expressions)s AT TIME ZONE 'UTC', '.US') "
            "END || '+00:00')"
        )
        sql, params = compiler.compile(self.source_expressions[0])
        return template % {"expressions": sql}, params * 3


def escalation_event(now: dt.datetime) -> dict[str, Expression]:
    """The event row of one escalation: event column -> expression over the
    ticket's row after the update. Columns not named take their default."""
    return {
        "ticket_id": F("pk"),
        "action": Value(Action.ESCALATE),
        "actor_label": Value("system"),
        "at": Value(now, output_field=DateTimeField()),
        "from_stage": F("stage"),
        "to_stage": F("stage"),
        "deadline": F("stage_deadline"),
        "data": JSONObject(
            level=F("escalation_level"),
            to_region=F("escalated_to_id"),
            deadline=IsoUtc("stage_deadline"),
        ),
    }


# --- One batch as set-based SQL ----------------------------------------------


def _escalate_batch(due, ids: list[int], run: EscalationRun) -> int:
    """One batch, its rows locked by the caller: move them up, log, count them
    into the run's digests and tell the nodes' staff. On PostgreSQL one
    statement (``batches.update_batch``): the UPDATE, the INSERT of the events
    from its RETURNING rows and, from the same rows, each node's count and its
    first tickets (for the staff's bounded per-ticket messages); no Python
    object per ticket. Then at most one read of the accounts (nodes not seen
    before in the run) and at most one INSERT of messages."""
    rows = update_batch(
        due.filter(pk__in=ids),
        escalation_changes(),
        inserts=(Insert(TicketEvent, lambda: escalation_event(run.now)),),
        summary=lambda updated: _summary(updated, max(1, run.ticket_notices)),
    )
    return _notify_escalations(rows, run)


_SUMMARY_FIELDS = (
    "pk",
    "number",
    "stage",
    "escalation_level",
    "escalated_to_id",
    "escalated_to__name",
    "escalated_to__tree_id",
    "escalated_to__lft",
    "escalated_to__rght",
)


def _summary(updated: QuerySet, per_node: int) -> QuerySet:
    """Per node the batch escalated to: how many (``node_count``, on each row)
    and its first ``per_node`` tickets by id, the ones its staff may be told of
    one by one."""
    by_node = {"partition_by": F("escalated_to_id")}
    return (
        updated.annotate(
            node_rank=Window(RowNumber(), order_by=F("pk").asc(), **by_node),
            node_count=Window(Count("pk"), **by_node),
        )
        .filter(node_rank__lte=per_node)
        .order_by("pk")
        .values(*_SUMMARY_FIELDS, "node_count", body=Substr("description", 1, 200))
    )


def _ticket_url(pk) -> str:
    # One reverse() per job run, not per row: a backlog can be tens of thousands.
    return _ticket_url_template().format(pk=pk)


@functools.cache
def _ticket_url_template() -> str:
    return reverse("admin:tickets_ticket_change", args=[987654321]).replace(
        "987654321", "{pk}"
    )


class NodeRecipients(NamedTuple):
    supervisors: list[int]  # whose scope holds the node: the digest
    staff: list[int]  # the node's own staff: a message per ticket (bounded)


def _escalation_recipients(rows) -> dict[int, NodeRecipients]:
    """node id -> accounts to tell: the supervisors whose scope holds the node
    (their region is the node or an ancestor: same tree, lft <= node's lft,
    rght >= node's rght) and the node's own staff. One query, over only the
    accounts that qualify; the escalated nodes are few (streets, districts)."""
    nodes = {
        row["escalated_to_id"]: (
            row["escalated_to__tree_id"],
            row["escalated_to__lft"],
            row["escalated_to__rght"],
        )
        for row in rows
        if row["escalated_to_id"] is not None
    }
    if not nodes:
        return {}
    above_a_node = Q()
    for tree_id, lft, rght in set(nodes.values()):
        above_a_node |= Q(
            region__tree_id=tree_id, region__lft__lte=lft, region__rght__gte=rght
        )
    accounts = list(
        get_user_model()
        .objects.filter(is_active=True, region__isnull=False)
        .filter(
            Q(above_a_node, role=UserRole.SUPERVISOR)
            | Q(role__in=UNIT_ROLES, region_id__in=nodes)
        )
        .values_list(
            "pk", "role", "region_id", "region__tree_id", "region__lft", "region__rght"
        )
    )
    recipients = {}
    for node_id, (tree_id, lft, rght) in nodes.items():
        recipients[node_id] = NodeRecipients(
            supervisors=[
                pk
                for pk, role, _region, u_tree, u_lft, u_rght in accounts
                if role == UserRole.SUPERVISOR
                and u_tree == tree_id
                and u_lft <= lft
                and rght <= u_rght
            ],
            staff=[
                pk
                for pk, role, region_id, *_tree in accounts
                if role != UserRole.SUPERVISOR and region_id == node_id
            ],
        )
    return recipients


def _notify_escalations(rows, run: EscalationRun) -> int:
    """Count the batch into the run's digests (``rows``: the batch's summary,
    each row with its node's ``node_count``); tell the node's staff of each
    ticket while they have had fewer than ``run.ticket_notices`` this run.
    Returns how many the batch escalated. At most one read of the accounts (the
    nodes not seen before in this run), at most one INSERT of the messages."""
    new_nodes = [
        row
        for row in rows
        if row["escalated_to_id"] is not None
        and row["escalated_to_id"] not in run.recipients
    ]
    run.recipients.update(_escalation_recipients(new_nodes))
    escalated = 0
    counted = set()  # nodes whose count is taken (from their first row)
    messages = []
    for row in rows:
        node_id = row["escalated_to_id"]
        node = run.recipients.get(node_id)
        if node_id not in counted:
            counted.add(node_id)
            escalated += row["node_count"]
            if node is not None:
                run.per_node[node_id] += row["node_count"]
                run.node_names[node_id] = row["escalated_to__name"]
                if row["node_count"] > run.ticket_notices:
                    # Tickets past the rows read: no staff is told of them.
                    run.staff_untold.update(node.staff)
        if node is None:
            continue
        for pk in node.supervisors:
            run.digest_for[pk].add(node_id)
        told = []
        for pk in node.staff:
            run.digest_for[pk].add(node_id)
            if run.staff_told[pk] < run.ticket_notices:
                run.staff_told[pk] += 1
                told.append(pk)
            else:
                run.staff_untold.add(pk)
        if told:
            messages.append(
                {
                    "recipients": told,
                    "title": _(
                        "Ticket %(number)s is overdue (%(stage)s), "
                        "escalated to %(node)s"
                    )
                    % {
                        "number": row["number"] or f"#{row['pk']}",
                        "stage": Stage(row["stage"]).label,
                        "node": row["escalated_to__name"],
                    },
                    "body": row["body"],
                    "url": _ticket_url(row["pk"]),
                    "dedupe_key": (
                        f"ticket:{row['pk']}:escalation:{row['escalation_level']}"
                    ),
                }
            )
    if messages:
        notify_many(messages)
    return escalated


def escalated_list_url() -> str:
    """The ticket list filtered to escalated tickets still overdue (the filters
    of ``tickets.filters.TicketFilterSet``); each reader sees their own scope."""
    return reverse("admin:tickets_ticket_changelist") + "?escalated=yes&overdue=yes"


def _send_digests(run: EscalationRun) -> int:
    """One message per run to each supervisor told (and to each staff member who
    was not told of every ticket): how many escalated, to which nodes, and a link
    to the list. Deduplicated by run. One INSERT."""
    url = escalated_list_url()
    messages = []
    for pk, nodes in run.digest_for.items():
        if pk in run.staff_told and pk not in run.staff_untold:
            continue  # staff already told of each ticket
        count = sum(run.per_node[node_id] for node_id in nodes)
        by_node = sorted(nodes, key=lambda node_id: -run.per_node[node_id])
        messages.append(
            {
                "recipients": [pk],
                "title": ngettext(
                    "%(count)s overdue ticket escalated in your area",
                    "%(count)s overdue tickets escalated in your area",
                    count,
                )
                % {"count": count},
                "body": "\n".join(
                    _("%(node)s: %(count)s")
                    % {"node": run.node_names[node_id], "count": run.per_node[node_id]}
                    for node_id in by_node
                ),
                "url": url,
                "dedupe_key": run.dedupe_key(),
            }
        )
    if not messages:
        return 0
    return notify_many(messages)


# --- Reminders ---------------------------------------------------------------
# One message per person and run: a run reminds of every ticket whose reminder
# time has come (once per deadline), and each person told gets one inbox entry
# for the run: the digest (how many, the first ``REMINDER_LISTED`` tickets, a
# link to the list of the tickets reminded and not yet due). It is written by
# the batch that first reminds the person of a ticket, in that batch's
# transaction (so a run cut short has told everyone it reminded of something),
# and rewritten once at the end of the run when later batches added tickets
# (``grids.notifications.notify_latest``): at most two writes per person and
# run, however many batches name them. A person reminded of one ticket in the
# run gets that ticket's own message.

REMINDER_LISTED = 20


class ReminderRun:
    """Whom one run reminded of what, for the digests."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self.count = Counter()  # account id -> tickets reminded of
        self.listed = defaultdict(list)  # account id -> first tickets (rows)
        self.written = {}  # account id -> the count its digest was written with

    def dedupe_key(self) -> str:
        return f"remind:digest:{self.now.isoformat()}"


def tickets_send_reminders(
    *, now: dt.datetime | None = None, batch_size: int | None = None
) -> int:
    """Remind whoever holds a ticket that its stage deadline is near (by default
    4 working hours before it): the handler of an accepted ticket, the handling
    unit's staff of a dispatched one, the responsible leader (else who received
    it) before dispatch. Once per deadline; set-based, batch by batch; one
    message per person and run (see above). Returns how many tickets."""
    now = now or timezone.now()
    run = ReminderRun(now)

    def due():
        return Ticket.objects.filter(
            stage__in=ESCALATING_STAGES,
            remind_at__lte=now,
            stage_deadline__gt=now,
        ).exclude(reminded_for_deadline=F("stage_deadline"))

    reminded = in_locked_batches(
        due,
        lambda due, rows: _remind_batch(due, rows, run),
        fields=(
            "pk",
            "number",
            "stage",
            "stage_deadline",
            "handler_id",
            "handling_region_id",
            "handling_department_id",
            "responsible_leader_id",
            "created_by_id",
        ),
        size=batch_size,
    )[0]
    # The digests that later batches grew: rewritten once, in one statement.
    grown = [pk for pk, count in run.written.items() if run.count[pk] != count]
    _write_reminder_digests(run, grown)
    return reminded


def reminded_list_url() -> str:
    """The ticket list filtered to tickets reminded of and not yet due
    (``tickets.filters.TicketFilterSet``); each reader sees their own scope."""
    return reverse("admin:tickets_ticket_changelist") + "?due_soon=yes"


def _reminder_recipients(rows) -> dict[int, set[int]]:
    """ticket id -> the accounts to remind. One read of the units' staff."""
    User = get_user_model()
    region_ids = {r["handling_region_id"] for r in rows if r["handling_region_id"]}
    department_ids = {
        r["handling_department_id"] for r in rows if r["handling_department_id"]
    }
    staff = []
    if region_ids or department_ids:
        staff = list(
            User.objects.filter(is_active=True)
            .filter(
                Q(region_id__in=region_ids, role__in=UNIT_ROLES)
                | Q(ticket_departments__in=department_ids)
            )
            .values_list("pk", "region_id", "ticket_departments")
        )
    recipients = {}
    for row in rows:
        if row["stage"] == Stage.ACCEPTED:
            told = {row["handler_id"]}
        elif row["stage"] == Stage.DISPATCHED:
            told = {
                pk
                for pk, region_id, department_id in staff
                if (
                    row["handling_region_id"] and region_id == row["handling_region_id"]
                )
                or (
                    row["handling_department_id"]
                    and department_id == row["handling_department_id"]
                )
            }
        else:
            told = {row["responsible_leader_id"] or row["created_by_id"]}
        recipients[row["pk"]] = told - {None}
    return recipients


def _remind_batch(due, rows, run: ReminderRun) -> int:
    """One batch, its rows locked by the caller: mark them reminded for their
    deadline, count them into the run's digests, and write the digest of each
    person this batch is the first to remind. At most three statements: the
    UPDATE, the staff read (when a ticket is dispatched), one INSERT of the
    digests."""
    due.filter(pk__in=[r["pk"] for r in rows]).update(
        reminded_for_deadline=F("stage_deadline")
    )
    recipients = _reminder_recipients(rows)
    for row in rows:
        for pk in recipients[row["pk"]]:
            run.count[pk] += 1
            if len(run.listed[pk]) < REMINDER_LISTED:
                run.listed[pk].append(_reminder_line(row))
    first_told = sorted(
        {pk for told in recipients.values() for pk in told} - set(run.written)
    )
    _write_reminder_digests(run, first_told)
    return len(rows)


def _write_reminder_digests(run: ReminderRun, accounts) -> None:
    if accounts:
        notify_latest([_reminder_digest(run, pk) for pk in accounts])
        run.written.update((pk, run.count[pk]) for pk in accounts)


class ReminderLine(NamedTuple):
    pk: int
    number: str
    deadline: str  # local time, as shown


def _reminder_line(row) -> ReminderLine:
    return ReminderLine(
        row["pk"],
        row["number"] or f"#{row['pk']}",
        f"{timezone.localtime(row['stage_deadline']):%Y-%m-%d %H:%M}",
    )


def _reminder_digest(run: ReminderRun, pk: int) -> dict:
    count, listed = run.count[pk], run.listed[pk]
    if count == 1:
        line = listed[0]
        return {
            "recipients": [pk],
            "title": _("Ticket %(number)s is due at %(deadline)s")
            % {"number": line.number, "deadline": line.deadline},
            "url": _ticket_url(line.pk),
            "dedupe_key": run.dedupe_key(),
        }
    lines = [
        _("%(number)s: due at %(deadline)s")
        % {"number": line.number, "deadline": line.deadline}
        for line in listed
    ]
    if count > len(listed):
        lines.append(
            ngettext(
                "… and %(count)s more ticket",
                "… and %(count)s more tickets",
                count - len(listed),
            )
            % {"count": count - len(listed)}
        )
    return {
        "recipients": [pk],
        "title": ngettext(
            "%(count)s ticket is due soon",
            "%(count)s tickets are due soon",
            count,
        )
        % {"count": count},
        "body": "\n".join(lines),
        "url": reminded_list_url(),
        "dedupe_key": run.dedupe_key(),
    }
