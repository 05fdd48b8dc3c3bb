"""docker-compose.yml cannot run here (no Docker engine); read it and check it
starts what the process tests start, with healthchecks and a database volume."""

import importlib
import os
import runpy

import yaml

from tests.processes import ROOT


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_healthchecks():
    services = _compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "setup"} <= set(services)
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "pgdata" in _compose()["volumes"]


def test_app_commands_point_at_real_entry_points():
    services = _compose()["services"]
    web = services["web"]["command"]
    assert web[0].endswith("gunicorn")
    module, attribute = web[1].split(":")
    assert hasattr(importlib.import_module(module), attribute)
    for name, verb in (("worker", "worker"), ("beat", "beat")):
        command = services[name]["command"]
        assert command[command.index("-A") + 1] == "governance"
        assert verb in command
    assert (
        "django_celery_beat.schedulers:DatabaseScheduler" in services["beat"]["command"]
    )


def test_app_services_wait_for_setup_and_share_settings():
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["setup"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")
        assert env["DEBUG"] == "0"
    setup_script = services["setup"]["command"][2]
    for step in ("migrate", "collectstatic", "setup_schedules"):
        assert f"manage.py {step}" in setup_script


def _gunicorn_conf(monkeypatch, **env):
    for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_runs_sync_workers_behind_the_proxy_unless_threads_are_asked_for(
    monkeypatch,
):
    # The compose file leaves the shape to gunicorn.conf.py (no --workers or
    # --threads of its own), and puts nginx in front of it.
    web = _compose()["services"]["web"]["command"]
    assert not {"--workers", "-w", "--threads", "-k", "--worker-class"} & set(web)
    assert "proxy" in _compose()["services"]
    conf = _gunicorn_conf(monkeypatch)
    assert conf["worker_class"] == "sync" and conf["threads"] == 1
    assert conf["workers"] == 2 * (os.cpu_count() or 1)
    # A worker is not killed before nginx gives up on its answer.
    proxy_wait = (ROOT / "deploy" / "nginx.conf").read_text()
    assert f"proxy_read_timeout {conf['timeout']}s;" in proxy_wait
    conf = _gunicorn_conf(monkeypatch, GUNICORN_WORKERS="3", GUNICORN_THREADS="4")
    assert (conf["worker_class"], conf["workers"], conf["threads"]) == ("gthread", 3, 4)
