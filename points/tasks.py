"""Celery tasks of the points app: thin wrappers around services."""

import logging

from celery import shared_task
from django.utils import timezone

from . import selectors, services

logger = logging.getLogger(__name__)


@shared_task(name="points.tasks.points_expire_year")
def points_expire_year(year: int) -> int:
    """Book year-end expiry for ``year`` (idempotent)."""
    return services.points_expire_year(year=year)


@shared_task(name="points.tasks.points_expire_last_year")
def points_expire_last_year() -> int:
    """Run on 1 January: expire the year that just ended (idempotent, so running it
    again later in January books nothing twice)."""
    return services.points_expire_year(year=timezone.localdate().year - 1)


@shared_task(name="points.tasks.points_check_ledger")
def points_check_ledger() -> int:
    """Nightly proof that every cached balance equals its ledger; logs an error
    per drifted account. Returns how many drifted."""
    drifted = list(selectors.accounts_with_drift()[:1000])
    for account in drifted:
        logger.error(
            "points account %s: balance %s, ledger %s",
            account.pk,
            account.balance,
            account.ledger_sum,
        )
    return len(drifted)
