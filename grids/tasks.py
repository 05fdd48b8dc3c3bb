"""Celery tasks of the grids app: thin wrappers around services."""

from celery import shared_task

from . import services
from .idempotency import idempotency_keys_purge


@shared_task(name="grids.tasks.refresh_region_counts")
def refresh_region_counts() -> int:
    return services.region_counts_refresh()


@shared_task(name="grids.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    return idempotency_keys_purge()
