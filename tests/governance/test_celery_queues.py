"""Queues per job kind (settings.CELERY_TASK_ROUTES): deadline jobs, imports and
exports, notifications each on their own queue, the rest on the default queue;
every queue is consumed by `make run`'s worker and docker-compose's worker."""

import re

import pytest
import yaml
from django.conf import settings

from governance.celery import app
from tests.processes import ROOT


def _queue(task_name: str) -> str:
    route = app.amqp.router.route({}, task_name)
    return route["queue"].name


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("tickets.tasks.escalate_overdue", "deadlines"),
        ("tickets.tasks.send_reminders", "deadlines"),
        ("tickets.tasks.mark_unevaluated", "deadlines"),
        ("grids.tasks.import_households", "io"),
        ("grids.tasks.run_data_job", "io"),
        ("grids.tasks.data_jobs_requeue", "io"),
        ("tickets.tasks.export_tickets", "io"),
        ("partyorg.tasks.notify_stale_wishes", "notifications"),
        ("grids.tasks.send_sms_batch", "notifications"),
        ("grids.tasks.refresh_region_counts", "celery"),
        ("points.tasks.points_expire_year", "celery"),
    ],
)
def test_tasks_go_to_the_queue_of_their_kind(task_name, queue):
    assert _queue(task_name) == queue


def test_every_registered_task_goes_to_a_consumed_queue():
    app.loader.import_default_modules()
    ours = [n for n in app.tasks if not n.startswith("celery.")]
    assert "tickets.tasks.escalate_overdue" in ours
    for name in ours:
        assert _queue(name) in settings.WORKER_QUEUES, name


def test_routes_name_only_declared_queues():
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} == set(settings.WORKER_QUEUES)


def test_make_run_and_compose_workers_consume_every_queue():
    makefile = (ROOT / "Makefile").read_text()
    (listed,) = re.findall(r"^CELERY_QUEUES := (\S+)$", makefile, re.M)
    assert listed.split(",") == list(settings.WORKER_QUEUES)
    assert "-Q $(CELERY_QUEUES)" in makefile
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["worker"]["command"]
    assert command[command.index("-Q") + 1].split(",") == list(settings.WORKER_QUEUES)
