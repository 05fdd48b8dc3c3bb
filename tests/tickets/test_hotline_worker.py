"""A 12345 callback delivered by a real Celery worker process on Redis to a
callback server on localhost: a failure is retried, a success recorded, a
second announcement sends nothing."""

import os
import uuid

import pytest
from celery.result import EagerResult
from django.db import connection
from django.test import Client
from django.utils import timezone

from grids import broker
from tests.processes import process_env, running, solo_worker_args
from tests.tickets.callback_server import callback_server
from tests.tickets.hotline_helpers import make_platform, push
from tickets import services as ticket_services
from tickets.hotline import signing, tasks
from tickets.hotline.choices import DeliveryState
from tickets.models import HotlineDelivery


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not os.environ.get("REDIS_URL") or connection.vendor != "postgresql",
    reason="needs REDIS_URL and PostgreSQL (the worker shares the test database)",
)
def test_a_callback_is_delivered_by_a_real_worker(
    lifecycle, admin_user, tmp_path, monkeypatch
):
    from governance.celery import app

    announced = []
    monkeypatch.setattr(broker, "enqueue", lambda task, *a: announced.append(a))
    with callback_server() as server:
        platform = make_platform(
            admin_user, lifecycle["tree"]["street"], callback_url=server.url
        )
        ticket_id = push(Client(), platform).json()["ticket_id"]
        ticket_services.ticket_triage(
            actor=lifecycle["street_staff"],
            ticket_id=ticket_id,
            category=lifecycle["category"],
            region=lifecycle["tree"]["grids"][0],
            responsible_leader=lifecycle["street_staff"],
        )
        delivery = HotlineDelivery.objects.get()
        assert announced == [(str(delivery.pk),)]  # after commit, not inline
        server.statuses = [503]  # the platform is down the first time
        queue = f"hotline-test-{uuid.uuid4().hex[:8]}"
        env = process_env(
            GRIDWORK_VAR_DIR=str(tmp_path), REDIS_URL=os.environ["REDIS_URL"]
        )
        eager = app.conf.task_always_eager
        app.conf.task_always_eager = False
        try:
            with running(solo_worker_args(queue), env=env, ready_text="ready.") as (
                _process,
                log_path,
            ):

                def run():
                    result = tasks.deliver.apply_async(
                        args=[str(delivery.pk)], queue=queue
                    )
                    assert not isinstance(result, EagerResult)
                    try:
                        return result.get(timeout=120)
                    except Exception as exc:
                        output = log_path.read_text(errors="replace")
                        raise AssertionError(f"{exc!r}\n{output[-4000:]}") from exc

                assert run() == DeliveryState.RETRY
                # Announced again before its time: nothing is sent.
                assert run() is None
                HotlineDelivery.objects.filter(pk=delivery.pk).update(
                    next_attempt_at=timezone.now()
                )
                assert run() == DeliveryState.DELIVERED
                assert run() is None  # a double announcement sends nothing
        finally:
            app.conf.task_always_eager = eager
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (
        DeliveryState.DELIVERED,
        2,
        200,
    )
    assert len(server.received) == 2
    for headers, body, _valid in server.received:
        assert headers[signing.DELIVERY_HEADER] == str(delivery.pk)
        signing.verify(
            platform.plain_secret,
            headers[signing.TIMESTAMP_HEADER],
            body,
            headers[signing.SIGNATURE_HEADER],
        )
    assert server.bodies()[1]["event"]["action"] == "triage"
