"""Celery tasks of the hotline integration: thin wrappers over ``outbox``."""

from celery import shared_task

from . import outbox


@shared_task(name="tickets.tasks.hotline_deliver")
def deliver(delivery_id: str) -> str | None:
    return outbox.hotline_delivery_send(delivery_id=delivery_id)


@shared_task(name="tickets.tasks.hotline_sweep")
def sweep() -> int:
    return outbox.hotline_deliveries_sweep()
