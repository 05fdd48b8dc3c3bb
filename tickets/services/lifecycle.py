"""The staff stages: 制单 (triage), 派单 (dispatch), 接单 (accept) or 退单 (return),
做单 (handle) or 上报 (report up). Each is one transaction: lock, check, write the
ticket and one event, notify after commit."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import GRID_LEVELS, RegionLevel
from grids.errors import Conflict, DomainError
from grids.models import Region

from .. import permissions
from ..choices import (
    ACCEPT_WORKING_DAYS,
    TRANSITIONS,
    TRIAGE_WORKING_DAYS,
    Action,
)
from ..models import Category, Department, Ticket
from .catalogue import deadline_class_for
from .common import (
    check_photos,
    evaluation_wait_days,
    handling_days,
    holder_of,
    lock_ticket,
    move,
    notify_on_commit,
    record_event,
    require_text,
    save_photos,
    street_of,
    unit_staff_ids,
)


def _triage(
    ticket, *, actor, category, region, responsible_leader, deadline_class, note, now
):
    permissions.require_action(actor, ticket, Action.TRIAGE)
    if category is None or region is None or responsible_leader is None:
        raise DomainError(
            _("Triage needs a category, a place and a responsible leader."),
            code="required",
        )
    if not category.is_active:
        raise DomainError(_("This category is no longer in use."), code="invalid")
    if region.level not in GRID_LEVELS:
        raise DomainError(
            _("The place must be a grid or a building."), code="invalid_region"
        )
    permissions.require_in_scope(actor, region)
    if not permissions.may_lead(actor, responsible_leader, region):
        raise DomainError(
            _(
                "The responsible leader must be an active street or community "
                "staff account of your area whose area holds the ticket's place."
            ),
            code="invalid_leader",
        )
    from_stage = ticket.stage
    # The 1-working-day clock of 制单+派单 keeps running: the deadline stays.
    ticket.stage = TRANSITIONS[Action.TRIAGE][1]
    ticket.category = category
    ticket.region = region
    ticket.responsible_leader = responsible_leader
    # A class chosen at 制单 must be one the ticket's place may take (shared, or
    # its street's own); otherwise the category's default applies.
    if deadline_class:
        deadline_class = deadline_class_for(
            code=getattr(deadline_class, "pk", deadline_class), region=region
        )
    ticket.deadline_class = deadline_class or category.deadline_class
    ticket.holder_region = holder_of(ticket)
    ticket.save(
        update_fields=[
            "stage",
            "category",
            "region",
            "responsible_leader",
            "deadline_class",
            "holder_region",
            "updated_at",
        ]
    )
    record_event(
        ticket,
        action=Action.TRIAGE,
        actor=actor,
        from_stage=from_stage,
        note=note,
        data={
            "category": category.pk,
            "region": region.pk,
            "leader": responsible_leader.pk,
        },
        at=now,
    )
    if responsible_leader.pk != getattr(actor, "pk", None):
        # 批转: the leader learns the ticket is theirs to dispatch.
        notify_on_commit(
            recipients=[responsible_leader.pk],
            title=_("Ticket %(number)s is yours to dispatch")
            % {"number": ticket.display_number},
            body=ticket.description[:200],
            url=ticket.get_absolute_url(),
            dedupe_key=f"ticket:{ticket.pk}:lead:{responsible_leader.pk}:"
            f"{now.timestamp():.0f}",
        )


def _dispatch(
    ticket, *, actor, handling_region, handling_department, instructions, now
):
    permissions.require_action(actor, ticket, Action.DISPATCH)
    if (handling_region is None) == (handling_department is None):
        raise DomainError(
            _("Dispatch to either a community or a department."), code="required"
        )
    if handling_region is not None:
        if handling_region.level != RegionLevel.COMMUNITY:
            raise DomainError(
                _("Dispatch to a community (or a department)."),
                code="invalid_region",
            )
        permissions.require_in_scope(actor, handling_region)
        if not handling_region.contains(ticket.region):
            raise DomainError(
                _("The ticket's place does not lie in %(unit)s.")
                % {"unit": handling_region.name},
                code="invalid_region",
            )
    else:
        if not handling_department.is_active:
            raise DomainError(_("This department is no longer in use."), code="invalid")
        if not permissions.department_serves(handling_department, ticket.region):
            raise DomainError(
                _("%(department)s does not serve the ticket's place.")
                % {"department": handling_department.name},
                code="invalid_department",
            )
    from_stage = ticket.stage
    fields = move(
        ticket,
        TRANSITIONS[Action.DISPATCH][1],
        now=now,
        working_days=ACCEPT_WORKING_DAYS,
    )
    ticket.handling_region = handling_region
    ticket.handling_department = handling_department
    ticket.instructions = (instructions or "").strip()
    ticket.handler = None
    ticket.holder_region = holder_of(ticket)
    if ticket.dispatched_at is None:
        ticket.dispatched_at = now
    ticket.save(
        update_fields=[
            *fields,
            "handling_region",
            "handling_department",
            "instructions",
            "handler",
            "holder_region",
            "dispatched_at",
            "updated_at",
        ]
    )
    record_event(
        ticket,
        action=Action.DISPATCH,
        actor=actor,
        from_stage=from_stage,
        note=ticket.instructions,
        data={
            "region": getattr(handling_region, "pk", None),
            "department": getattr(handling_department, "pk", None),
        },
        at=now,
    )
    notify_on_commit(
        recipients=unit_staff_ids(
            region=handling_region, department=handling_department
        ),
        title=_("Ticket %(number)s dispatched to you")
        % {"number": ticket.display_number},
        body=ticket.description[:200],
        url=ticket.get_absolute_url(),
        dedupe_key=f"ticket:{ticket.pk}:dispatch:{now.timestamp():.0f}",
    )


def ticket_triage(
    *,
    actor,
    ticket_id: int,
    category: Category,
    region: Region,
    responsible_leader,
    deadline_class: str | None = None,
    note: str = "",
) -> Ticket:
    """制单: set category, place and responsible leader."""
    now = timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        _triage(
            ticket,
            actor=actor,
            category=category,
            region=region,
            responsible_leader=responsible_leader,
            deadline_class=deadline_class,
            note=note,
            now=now,
        )
    return ticket


def ticket_dispatch(
    *,
    actor,
    ticket_id: int,
    handling_region: Region | None = None,
    handling_department: Department | None = None,
    instructions: str = "",
) -> Ticket:
    """派单: the responsible leader sends a triaged ticket to a community or a
    department with handling instructions."""
    now = timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        _dispatch(
            ticket,
            actor=actor,
            handling_region=handling_region,
            handling_department=handling_department,
            instructions=instructions,
            now=now,
        )
    return ticket


def ticket_triage_and_dispatch(
    *,
    actor,
    ticket_id: int,
    category: Category,
    region: Region,
    responsible_leader,
    handling_region: Region | None = None,
    handling_department: Department | None = None,
    instructions: str = "",
    deadline_class: str | None = None,
    note: str = "",
) -> Ticket:
    """制单 and 派单 in one transaction (two events): only when the person who
    triages names themself the responsible leader."""
    if not (
        getattr(actor, "is_superuser", False)
        or getattr(responsible_leader, "pk", None) == getattr(actor, "pk", None)
    ):
        raise DomainError(
            _(
                "Only the responsible leader dispatches: triage the ticket, "
                "or name yourself the responsible leader to dispatch it at once."
            ),
            code="not_leader",
        )
    now = timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        _triage(
            ticket,
            actor=actor,
            category=category,
            region=region,
            responsible_leader=responsible_leader,
            deadline_class=deadline_class,
            note=note,
            now=now,
        )
        _dispatch(
            ticket,
            actor=actor,
            handling_region=handling_region,
            handling_department=handling_department,
            instructions=instructions,
            now=now,
        )
    return ticket


def tickets_bulk_dispatch(
    *,
    actor,
    ticket_ids,
    handling_region: Region | None = None,
    handling_department: Department | None = None,
    instructions: str = "",
) -> tuple[int, list[str]]:
    """Dispatch several triaged tickets to one unit; each in its own transaction,
    so one refusal (e.g. a ticket whose leader is someone else) does not undo
    the others. (dispatched count, error messages)"""
    done, errors = 0, []
    ticket_ids = list(ticket_ids)
    numbers = dict(Ticket.objects.filter(pk__in=ticket_ids).values_list("pk", "number"))
    for ticket_id in ticket_ids:
        try:
            ticket_dispatch(
                actor=actor,
                ticket_id=ticket_id,
                handling_region=handling_region,
                handling_department=handling_department,
                instructions=instructions,
            )
            done += 1
        except DomainError as exc:
            number = numbers.get(ticket_id) or f"#{ticket_id}"
            errors.append(f"{number}: {exc.message}")
    return done, errors


def _check_handler(ticket, handler) -> None:
    if handler is None or not handler.is_active:
        raise DomainError(_("Name an active handler."), code="required")
    if not (handler.is_superuser or handler.role in permissions.HANDLER_ROLES):
        raise DomainError(
            _("The handler must be a grid worker or a cadre."), code="invalid"
        )
    if ticket.handling_department_id:
        ok = permissions.is_department_member(handler, ticket.handling_department)
    else:
        ok = handler.region_id is not None and ticket.handling_region.contains(
            handler.region
        )
    if not ok:
        raise DomainError(
            _("%(name)s does not work for the unit that holds this ticket.")
            % {"name": handler.display_name},
            code="invalid_handler",
        )


def ticket_accept(*, actor, ticket_id: int, handler, note: str = "") -> Ticket:
    """接单: the unit accepts and names the handler who goes on site."""
    now = timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        permissions.require_action(actor, ticket, Action.ACCEPT)
        _check_handler(ticket, handler)
        from_stage = ticket.stage
        accept_deadline = ticket.stage_deadline
        fields = move(
            ticket,
            TRANSITIONS[Action.ACCEPT][1],
            now=now,
            working_days=handling_days(ticket),
        )
        ticket.handler = handler
        if ticket.accepted_at is None:
            # The first round only: 及时签收 and the 做单 promise.
            ticket.accepted_at = now
            ticket.accepted_on_time = accept_deadline is None or now <= accept_deadline
            ticket.handling_due_at = ticket.stage_deadline
            fields += ["accepted_at", "accepted_on_time", "handling_due_at"]
        ticket.save(update_fields=[*fields, "handler", "updated_at"])
        record_event(
            ticket,
            action=Action.ACCEPT,
            actor=actor,
            from_stage=from_stage,
            note=note,
            data={"handler": handler.pk},
            at=now,
        )
        notify_on_commit(
            recipients=[handler.pk],
            title=_("Ticket %(number)s is yours to handle")
            % {"number": ticket.display_number},
            body=ticket.description[:200],
            url=ticket.get_absolute_url(),
        )
    return ticket


def ticket_return(*, actor, ticket_id: int, reason: str) -> Ticket:
    """退单: the unit sends the ticket back to 派单 with a reason."""
    reason = require_text(reason, _("Give the reason for returning the ticket."))
    now = timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        permissions.require_action(actor, ticket, Action.RETURN)
        from_stage = ticket.stage
        unit = ticket.handling_unit
        fields = move(
            ticket,
            TRANSITIONS[Action.RETURN][1],
            now=now,
            working_days=TRIAGE_WORKING_DAYS,
        )
        ticket.handling_region = None
        ticket.handling_department = None
        ticket.return_count += 1
        ticket.holder_region = holder_of(ticket)
        ticket.save(
            update_fields=[
                *fields,
                "handling_region",
                "handling_department",
                "return_count",
                "holder_region",
                "updated_at",
            ]
        )
        record_event(
            ticket,
            action=Action.RETURN,
            actor=actor,
            from_stage=from_stage,
            note=reason,
            data={"unit": str(unit)},
            at=now,
        )
        notify_on_commit(
            recipients=[ticket.responsible_leader_id, ticket.created_by_id],
            title=_("Ticket %(number)s was returned")
            % {"number": ticket.display_number},
            body=reason,
            url=ticket.get_absolute_url(),
        )
    return ticket


def ticket_handle(
    *,
    actor,
    ticket_id: int,
    result: str,
    cause: str = "",
    crux: str = "",
    measures: str = "",
    photos=(),
) -> Ticket:
    """做单: the handler records cause, crux, measures and result; then 评单."""
    result = require_text(result, _("Record the result of the handling."))
    checked = check_photos(photos)
    now = timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        permissions.require_action(actor, ticket, Action.HANDLE)
        from_stage = ticket.stage
        fields = move(
            ticket,
            TRANSITIONS[Action.HANDLE][1],
            now=now,
            working_days=evaluation_wait_days(),
        )
        ticket.cause = (cause or "").strip()
        ticket.crux = (crux or "").strip()
        ticket.measures = (measures or "").strip()
        ticket.result = result
        if ticket.handled_at is None:
            ticket.handled_at = now
        ticket.save(
            update_fields=[
                *fields,
                "cause",
                "crux",
                "measures",
                "result",
                "handled_at",
                "updated_at",
            ]
        )
        event = record_event(
            ticket,
            action=Action.HANDLE,
            actor=actor,
            from_stage=from_stage,
            note=result,
            data={
                "cause": ticket.cause,
                "crux": ticket.crux,
                "measures": ticket.measures,
            },
            at=now,
        )
        save_photos(ticket, event, checked)
    return ticket


def _report_up_target(ticket) -> Region | None:
    if ticket.handling_department_id:
        department = ticket.handling_department
        if department.region_id:
            return department.region
        street = street_of(ticket.region)
        return street if street and street.level == RegionLevel.STREET else None
    return ticket.handling_region.parent if ticket.handling_region_id else None


def ticket_report_up(*, actor, ticket_id: int, reason: str) -> Ticket:
    """上报: the handler cannot solve it; it goes one level up the Region tree
    and waits there to be accepted (逐级上报)."""
    reason = require_text(reason, _("Give the reason for reporting up."))
    now = timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        permissions.require_action(actor, ticket, Action.REPORT_UP)
        target = _report_up_target(ticket)
        if target is None:
            raise Conflict(
                _("There is no level above this unit to report to."),
                code="top_of_tree",
            )
        from_stage = ticket.stage
        fields = move(
            ticket,
            TRANSITIONS[Action.REPORT_UP][1],
            now=now,
            working_days=ACCEPT_WORKING_DAYS,
        )
        ticket.handling_region = target
        ticket.handling_department = None
        ticket.handler = None
        ticket.report_up_count += 1
        ticket.holder_region = target
        ticket.save(
            update_fields=[
                *fields,
                "handling_region",
                "handling_department",
                "handler",
                "report_up_count",
                "holder_region",
                "updated_at",
            ]
        )
        record_event(
            ticket,
            action=Action.REPORT_UP,
            actor=actor,
            from_stage=from_stage,
            note=reason,
            data={"to_region": target.pk},
            at=now,
        )
        notify_on_commit(
            recipients=unit_staff_ids(region=target),
            title=_("Ticket %(number)s reported up to %(unit)s")
            % {"number": ticket.display_number, "unit": target.name},
            body=reason,
            url=ticket.get_absolute_url(),
        )
    return ticket


def handler_choices(ticket):
    """Accounts that may be named handler of ``ticket`` (for forms)."""
    User = get_user_model()
    qs = User.objects.filter(is_active=True, role__in=permissions.HANDLER_ROLES)
    if ticket.handling_department_id:
        return qs.filter(ticket_departments=ticket.handling_department_id)
    if ticket.handling_region_id:
        from grids.querysets import subtree_q

        return qs.filter(subtree_q(ticket.handling_region, "region"))
    return qs.none()


__all__ = [
    "handler_choices",
    "ticket_accept",
    "ticket_dispatch",
    "ticket_handle",
    "ticket_report_up",
    "ticket_return",
    "ticket_triage",
    "ticket_triage_and_dispatch",
    "tickets_bulk_dispatch",
]
