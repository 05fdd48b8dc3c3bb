"""Celery tasks of the tickets app: thin wrappers over the services."""

from celery import shared_task

from .services import escalation, evaluation


@shared_task(name="tickets.tasks.escalate_overdue")
def escalate_overdue() -> int:
    return escalation.tickets_escalate_overdue()


@shared_task(name="tickets.tasks.send_reminders")
def send_reminders() -> int:
    return escalation.tickets_send_reminders()


@shared_task(name="tickets.tasks.mark_unevaluated")
def mark_unevaluated() -> int:
    return evaluation.tickets_mark_unevaluated()


# The hotline's tasks live with their code; imported so the worker knows them.
from .hotline.tasks import deliver as hotline_deliver  # noqa: E402, F401
from .hotline.tasks import sweep as hotline_sweep  # noqa: E402, F401
