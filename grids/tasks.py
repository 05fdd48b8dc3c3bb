"""Celery tasks of the grids app: thin wrappers around services."""

from celery import shared_task

from . import services


@shared_task(name="grids.tasks.refresh_region_counts")
def refresh_region_counts() -> int:
    return services.region_counts_refresh()
