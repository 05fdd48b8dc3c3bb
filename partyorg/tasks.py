"""Celery tasks of the partyorg app: thin wrappers around services."""

from celery import shared_task

from .services import wishes_notify_stale


@shared_task(name="partyorg.tasks.notify_stale_wishes")
def notify_stale_wishes() -> int:
    """Tell community staff about unclaimed micro-wishes older than N days."""
    return wishes_notify_stale()
