"""Celery tasks of the grids app: thin wrappers around services."""

from celery import shared_task

from . import services
from .idempotency import idempotency_keys_purge


@shared_task(name="grids.tasks.refresh_region_counts")
def refresh_region_counts() -> int:
    return services.region_counts_refresh()


@shared_task(name="grids.tasks.run_data_job")
def run_data_job(job_id: int) -> str | None:
    return services.data_job_run(job_id=job_id)


@shared_task(name="grids.tasks.data_jobs_cleanup")
def data_jobs_cleanup() -> dict:
    return services.data_jobs_cleanup()


@shared_task(name="grids.tasks.data_jobs_requeue")
def data_jobs_requeue() -> int:
    return services.data_jobs_requeue()


@shared_task(name="grids.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    return idempotency_keys_purge()
