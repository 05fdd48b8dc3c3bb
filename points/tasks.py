"""Celery tasks of the points app: thin wrappers around services."""

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(name="points.tasks.points_expire_year")
def points_expire_year(year: int) -> int:
    """Book year-end expiry for ``year`` (idempotent)."""
    return services.points_expire_year(year=year)


@shared_task(name="points.tasks.points_expire_last_year")
def points_expire_last_year() -> int:
    """Run on 1 January: expire the year that just ended (idempotent, so running it
    again later in January books nothing twice)."""
    return services.points_expire_year(year=timezone.localdate().year - 1)
