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
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grids.choices import UserRole
from grids.models import Region
from grids.notifications import notify_many

from ..choices import ESCALATING_STAGES, Action, Stage
from ..models import Ticket, TicketEvent
from ..permissions import UNIT_ROLES
from .batches import in_locked_batches
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


def _escalate_batch(due, ids: list[int], run: EscalationRun) -> int:
    """One batch, its rows locked by the caller: move them up, log, notify."""
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
    due.filter(pk__in=ids).update(
        escalation_level=F("escalation_level") + 1,
        escalated_for_deadline=F("stage_deadline"),
        escalated_to_id=Coalesce(parent, current),
    )
    rows = list(
        Ticket.objects.filter(pk__in=ids, escalated_for_deadline__isnull=False)
        .filter(escalated_for_deadline=F("stage_deadline"))
        .values(
            "pk",
            "number",
            "stage",
            "stage_deadline",
            "escalation_level",
            "escalated_to_id",
            "escalated_to__name",
            "escalated_to__tree_id",
            "escalated_to__lft",
            "escalated_to__rght",
            "description",
        )
    )
    TicketEvent.objects.bulk_create(
        [
            TicketEvent(
                ticket_id=row["pk"],
                action=Action.ESCALATE,
                actor_label="system",
                at=run.now,
                from_stage=row["stage"],
                to_stage=row["stage"],
                deadline=row["stage_deadline"],
                data={
                    "level": row["escalation_level"],
                    "to_region": row["escalated_to_id"],
                    "deadline": row["stage_deadline"].isoformat(),
                },
            )
            for row in rows
        ]
    )
    _notify_escalations(rows, run)
    return len(rows)


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


def _notify_escalations(rows, run: EscalationRun) -> None:
    """Count the batch into the run's digests; tell the node's staff of each
    ticket while they have had fewer than ``run.ticket_notices`` this run. One
    read of the accounts, at most one INSERT of the messages."""
    recipients = _escalation_recipients(rows)
    messages = []
    for row in rows:
        node_id = row["escalated_to_id"]
        node = recipients.get(node_id)
        if node is None:
            continue
        run.per_node[node_id] += 1
        run.node_names[node_id] = row["escalated_to__name"]
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
                    "body": row["description"][:200],
                    "url": _ticket_url(row["pk"]),
                    "dedupe_key": (
                        f"ticket:{row['pk']}:escalation:{row['escalation_level']}"
                    ),
                }
            )
    if messages:
        notify_many(messages)


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


def tickets_send_reminders(
    *, now: dt.datetime | None = None, batch_size: int | None = None
) -> int:
    """Remind whoever holds a ticket that its stage deadline is near (by default
    4 working hours before it). Once per deadline; set-based, batch by batch."""
    now = now or timezone.now()

    def due():
        return Ticket.objects.filter(
            stage__in=ESCALATING_STAGES,
            remind_at__lte=now,
            stage_deadline__gt=now,
        ).exclude(reminded_for_deadline=F("stage_deadline"))

    return in_locked_batches(
        due,
        _remind_batch,
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


def _remind_batch(due, rows) -> int:
    User = get_user_model()
    due.filter(pk__in=[r["pk"] for r in rows]).update(
        reminded_for_deadline=F("stage_deadline")
    )
    region_ids = {r["handling_region_id"] for r in rows if r["handling_region_id"]}
    department_ids = {
        r["handling_department_id"] for r in rows if r["handling_department_id"]
    }
    staff = list(
        User.objects.filter(is_active=True)
        .filter(
            Q(region_id__in=region_ids, role__in=UNIT_ROLES)
            | Q(ticket_departments__in=department_ids)
        )
        .values_list("pk", "region_id", "ticket_departments")
    )
    messages = []
    for row in rows:
        if row["stage"] == Stage.ACCEPTED:
            recipients = {row["handler_id"]}
        elif row["stage"] == Stage.DISPATCHED:
            recipients = {
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
            recipients = {row["responsible_leader_id"] or row["created_by_id"]}
        local_deadline = timezone.localtime(row["stage_deadline"])
        messages.append(
            {
                "recipients": recipients - {None},
                "title": _("Ticket %(number)s is due at %(deadline)s")
                % {
                    "number": row["number"] or f"#{row['pk']}",
                    "deadline": f"{local_deadline:%Y-%m-%d %H:%M}",
                },
                "url": _ticket_url(row["pk"]),
                "dedupe_key": (
                    f"ticket:{row['pk']}:remind:{row['stage_deadline'].timestamp():.0f}"
                ),
            }
        )
    notify_many(messages)
    return len(rows)
