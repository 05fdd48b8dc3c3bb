"""Celery tasks of the partyorg app: thin wrappers around services."""

from celery import shared_task

from .services import wishes_notify_stale
from .whistle.services import whistle_calls_mark_absent


@shared_task(name="partyorg.tasks.notify_stale_wishes")
def notify_stale_wishes() -> int:
    """Tell community staff about unclaimed micro-wishes older than N days."""
    return wishes_notify_stale()


@shared_task(name="partyorg.tasks.mark_whistle_absences")
def mark_whistle_absences() -> int:
    """吹哨报到: mark summonses still pending after the grace period absent."""
    return whistle_calls_mark_absent()
