"""What docker-compose.yml starts — gunicorn, a Celery worker, Celery beat —
starts here as plain processes against the test database."""

import os
import urllib.request

import pytest
from celery import Celery

from grids.models import Region
from tests.grids.factories import HouseholdFactory, make_tree
from tests.processes import BIN, free_port, process_env, running, solo_worker_args

pytestmark = pytest.mark.django_db(transaction=True)


def test_gunicorn_serves_the_wsgi_app(tmp_path):
    port = free_port()
    env = process_env(GRIDWORK_VAR_DIR=str(tmp_path), ALLOWED_HOSTS="127.0.0.1")
    args = [
        str(BIN / "gunicorn"),
        "governance.wsgi:application",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "1",
    ]
    with running(args, env=env, ready_text="Booting worker"):
        for _ in range(100):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/admin/login/", timeout=5
                ) as response:
                    body = response.read().decode()
                break
            except OSError:
                import time

                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer")
    assert "登录" in body


def _run_task_through_worker(tmp_path, broker_env: dict):
    tree = make_tree()
    HouseholdFactory(region=tree["grids"][0])
    env = process_env(GRIDWORK_VAR_DIR=str(tmp_path), **broker_env)
    queue = f"test-{os.getpid()}"
    args = solo_worker_args(queue)
    with running(args, env=env, ready_text="ready."):
        # A client configured exactly as the worker is, from the same settings.
        client = Celery("gridwork-test-client", set_as_current=False)
        from django.conf import settings

        if broker_env.get("REDIS_URL"):
            client.conf.broker_url = broker_env["REDIS_URL"]
            client.conf.result_backend = broker_env["REDIS_URL"]
        else:
            folder = tmp_path / "broker"
            client.conf.broker_url = "filesystem://"
            client.conf.broker_transport_options = {
                **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                "data_folder_in": str(folder / "queue"),
                "data_folder_out": str(folder / "queue"),
                "processed_folder": str(folder / "processed"),
                "control_folder": str(folder / "control"),
            }
        result = client.send_task("grids.tasks.refresh_region_counts", queue=queue)
        if broker_env.get("REDIS_URL"):
            assert result.get(timeout=60) >= len(tree["grids"])
        else:
            import time

            for _ in range(600):
                if Region.objects.get(pk=tree["street"].pk).households_count == 1:
                    break
                time.sleep(0.1)
    assert Region.objects.get(pk=tree["street"].pk).households_count == 1


def test_worker_runs_a_task_on_the_embedded_filesystem_broker(tmp_path):
    _run_task_through_worker(tmp_path, {"REDIS_URL": None})


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")
def test_worker_runs_a_task_on_redis(tmp_path):
    _run_task_through_worker(tmp_path, {"REDIS_URL": os.environ["REDIS_URL"]})


def test_beat_starts_with_the_database_scheduler(tmp_path):
    from governance.schedules import install_periodic_tasks

    install_periodic_tasks()
    env = process_env(GRIDWORK_VAR_DIR=str(tmp_path), REDIS_URL=None)
    args = [
        str(BIN / "celery"),
        "-A",
        "governance",
        "beat",
        "--loglevel=DEBUG",
        "-S",
        "django_celery_beat.schedulers:DatabaseScheduler",
    ]
    with running(
        args, env=env, ready_text="beat: Ticking with max interval", timeout=60
    ):
        pass
