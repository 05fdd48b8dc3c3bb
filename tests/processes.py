"""Start the project's real processes (gunicorn, Celery worker and beat) from a
test, against the test database, and stop them again."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_database_url() -> str:
    """A DATABASE_URL for the database the current test uses."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def process_env(**overrides) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "DATABASE_URL": test_database_url(),
        "SECRET_KEY": "a-test-only-secret-key-for-subprocesses",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONPATH": str(ROOT),
    }
    env.update({k: v for k, v in overrides.items() if v is not None})
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(args, *, env, ready_text: str, timeout: float = 60):
    """Run ``args`` until ``ready_text`` shows in its output; yield the process and
    the output so far; terminate it afterwards."""
    log_path = (
        Path(env.get("GRIDWORK_VAR_DIR", "/tmp"))
        / f"proc-{os.getpid()}-{time.monotonic_ns()}.log"
    )
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w+") as log:
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                output = log_path.read_text(errors="replace")
                if ready_text in output:
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"{args[0]} did not become ready:\n{output[-4000:]}"
                    )
                time.sleep(0.1)
            yield process, log_path
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def solo_worker_args(queue: str, *extra: str) -> list[str]:
    """A one-process Celery worker consuming only ``queue`` (a queue name of the
    test's own, so no other worker takes its tasks), quiet on the control bus."""
    return [
        str(BIN / "celery"),
        "-A",
        "governance",
        "worker",
        "-P",
        "solo",
        "-Q",
        queue,
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        "--loglevel=INFO",
        *extra,
    ]
