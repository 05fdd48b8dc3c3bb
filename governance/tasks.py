"""Celery tasks of the governance package: thin wrappers over its services."""

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .appraisal import workers_appraise
from .bulletin_sending import weekly_bulletins_send
from .indicators import previous_month
from .services import rate_grids
from .survey import survey_send_links


@shared_task(name="governance.tasks.rate_grids")
def rate_grids_task(month: str | None = None) -> int:
    """The monthly rating: by default the month that just ended (the schedule
    runs on the 1st at 02:00); ``month`` as "YYYY-MM-DD" re-runs another one.
    The job writes the grids' dashboard summaries of the month from its own
    indicator pass; the levels above them follow, then the five-star appraisal
    of the month, from the new ratings."""
    from .dashboard import LEVELS_ABOVE_GRID, indicator_months_refresh

    day = (
        dt.date.fromisoformat(month) if month else previous_month(timezone.localdate())
    )
    rated = rate_grids(month=day)
    indicator_months_refresh(month=day, levels=LEVELS_ABOVE_GRID)
    workers_appraise(month=day)
    return rated


@shared_task(name="governance.tasks.survey_send_links")
def survey_send_links_task(day: str | None = None) -> int:
    """以下评上: send every household its survey link of the current period
    (once per household and period: a rerun sends nothing twice)."""
    return survey_send_links(
        base_url=settings.SITE_BASE_URL,
        day=dt.date.fromisoformat(day) if day else None,
    )


@shared_task(name="governance.tasks.dashboard_refresh")
def dashboard_refresh_task() -> int:
    """The dashboard's summary rows of the running month and the one before
    (hourly; governance.dashboard.recent_months_refresh)."""
    from .dashboard import recent_months_refresh

    return recent_months_refresh()


@shared_task(name="governance.tasks.weekly_bulletins_send")
def weekly_bulletins_send_task(monday: str | None = None) -> int:
    """周通报: each street's weekly bulletin of the week that ended (or of the
    week starting ``monday``, "YYYY-MM-DD") to its staff and supervisors, once
    per street and week (governance.bulletin_sending)."""
    return weekly_bulletins_send(
        monday=dt.date.fromisoformat(monday) if monday else None
    )
