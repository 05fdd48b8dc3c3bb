"""Periodic, set-based passes over every ticket: escalation past a deadline
(超期升级) and reminders before it.

Each pass runs a fixed number of SQL statements however many tickets it touches.
It is idempotent: a ticket escalates once per deadline value
(``escalated_for_deadline``) and is reminded once per deadline
(``reminded_for_deadline``). Two workers running at once do not collide: rows are
taken with ``SELECT … FOR UPDATE SKIP LOCKED`` and the UPDATE repeats the
condition, so a row another worker escalated in between no longer matches.
"""

import datetime as dt
import functools

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import UserRole
from grids.models import Region
from grids.notifications import notify_many

from ..choices import ESCALATING_STAGES, Action, Stage
from ..models import Ticket, TicketEvent
from ..permissions import UNIT_ROLES


def _due_for_escalation(now):
    return (
        Ticket.objects.filter(stage__in=ESCALATING_STAGES, stage_deadline__lt=now)
        # NULL-safe: a ticket never escalated, or escalated for an older deadline.
        .exclude(escalated_for_deadline=F("stage_deadline"))
    )


def tickets_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Escalate every ticket past its stage deadline one level up the Region tree,
    tell the supervisors of that node, and log it. Returns how many escalated."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            _due_for_escalation(now)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
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
        _due_for_escalation(now).filter(pk__in=ids).update(
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
                    at=now,
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
        _notify_escalations(rows)
    return len(rows)


def _ticket_url(pk) -> str:
    # One reverse() per job run, not per row: a backlog can be tens of thousands.
    return _ticket_url_template().format(pk=pk)


@functools.cache
def _ticket_url_template() -> str:
    return reverse("admin:tickets_ticket_change", args=[987654321]).replace(
        "987654321", "{pk}"
    )


def _escalation_recipients(rows) -> dict[int, list[int]]:
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
        recipients[node_id] = [
            pk
            for pk, role, region_id, u_tree, u_lft, u_rght in accounts
            if (
                role == UserRole.SUPERVISOR
                and u_tree == tree_id
                and u_lft <= lft
                and rght <= u_rght
            )
            or (role != UserRole.SUPERVISOR and region_id == node_id)
        ]
    return recipients


def _notify_escalations(rows) -> None:
    """Tell each escalated ticket's node (see ``_escalation_recipients``): one
    read of the accounts, one INSERT of the messages."""
    recipients = _escalation_recipients(rows)
    notify_many(
        {
            "recipients": recipients[row["escalated_to_id"]],
            "title": _(
                "Ticket %(number)s is overdue (%(stage)s), escalated to %(node)s"
            )
            % {
                "number": row["number"] or f"#{row['pk']}",
                "stage": Stage(row["stage"]).label,
                "node": row["escalated_to__name"],
            },
            "body": row["description"][:200],
            "url": _ticket_url(row["pk"]),
            "dedupe_key": f"ticket:{row['pk']}:escalation:{row['escalation_level']}",
        }
        for row in rows
        if recipients.get(row["escalated_to_id"])
    )


def tickets_send_reminders(*, now: dt.datetime | None = None) -> int:
    """Remind whoever holds a ticket that its stage deadline is near (by default
    4 working hours before it). Once per deadline; set-based."""
    now = now or timezone.now()
    User = get_user_model()
    with transaction.atomic():
        due = (
            Ticket.objects.filter(
                stage__in=ESCALATING_STAGES,
                remind_at__lte=now,
                stage_deadline__gt=now,
            )
            .exclude(reminded_for_deadline=F("stage_deadline"))
            .select_for_update(skip_locked=True)
        )
        rows = list(
            due.values(
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
        if not rows:
            return 0
        Ticket.objects.filter(pk__in=[r["pk"] for r in rows]).update(
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
                        row["handling_region_id"]
                        and region_id == row["handling_region_id"]
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
                        f"ticket:{row['pk']}:remind:"
                        f"{row['stage_deadline'].timestamp():.0f}"
                    ),
                }
            )
        notify_many(messages)
    return len(rows)
