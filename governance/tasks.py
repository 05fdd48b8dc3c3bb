"""Celery tasks of the governance package: thin wrappers over its services."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from .indicators import previous_month
from .services import rate_grids


@shared_task(name="governance.tasks.rate_grids")
def rate_grids_task(month: str | None = None) -> int:
    """The monthly rating: by default the month that just ended (the schedule
    runs on the 1st at 02:00); ``month`` as "YYYY-MM-DD" re-runs another one."""
    day = (
        dt.date.fromisoformat(month) if month else previous_month(timezone.localdate())
    )
    return rate_grids(month=day)


@shared_task(name="governance.tasks.dashboard_refresh")
def dashboard_refresh_task() -> int:
    """The dashboard's summary rows of the running month and the one before
    (hourly; governance.dashboard.recent_months_refresh)."""
    from .dashboard import recent_months_refresh

    return recent_months_refresh()
