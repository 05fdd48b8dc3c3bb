"""What the HTTP benches share (``bench_api.py``, ``bench_hotline.py``): gunicorn
on this machine, and a load client in a second process on loopback.

- ``server_env(var, **extra)``: the server's environment (DEBUG off, no TLS
  redirect, its own var directory) plus the bench's own settings;
- ``start_server(port=, workers=, env=, probe_path=)``: gunicorn on
  ``governance.wsgi`` from the repository (so ``gunicorn.conf.py`` applies)
  behind nginx with ``deploy/nginx.conf``, as docker-compose.yml deploys it
  (``start_front``), returned once it answers ``probe_path`` on ``port`` (any
  HTTP status is an answer); ``stop_server``;
- ``run_load(port=, seconds=, clients=, build=, params=)``: ``clients`` threads
  in a second process, each with one keep-alive connection (reopened when the
  server closes it), sending requests for ``seconds``; request ``n`` (``n`` =
  thread + k × clients, so every request has its own number) is built by
  ``build`` — ``"module:function"`` of a bench, called as ``function(n,
  params)`` and returning ``(method, path, body bytes, headers)``. Returns every
  ``(status, seconds)`` (status 0: the connection failed) and the elapsed time;
- ``summarise(loaded, ok_status)``: rate of ``ok_status`` answers, p50/p95/p99
  and mean latency, the count of each status;
- ``wrk_available()`` and ``run_wrk(port=, seconds=, connections=, threads=,
  script=, env=, ok_status=)``: the same load from ``wrk`` (C, epoll: it costs
  the 2 cores far less than the Python client), ``connections`` keep-alive
  connections over ``threads`` threads, each request built by a Lua ``script``
  that reads its settings from ``env``; returns the same summary as
  ``summarise``.
"""

import dataclasses
import importlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent


# The server's cache (throttles) and broker, as in production: Redis, when one
# answers here and REDIS_URL does not name another (db 11: the benches' own).
BENCH_REDIS_URL = "redis://127.0.0.1:6379/11"


def bench_redis_url() -> str:
    """REDIS_URL if set, else the local Redis if it answers, else "" (the
    server then counts in its own memory: a development setting)."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return BENCH_REDIS_URL
    except OSError:
        pass
    return ""


def server_env(var: str, **extra) -> dict:
    """The server's environment: this process's, with DEBUG and the TLS-only
    settings off, ``var`` as its var directory, Redis for its cache when there is
    one (``bench_redis_url``), and ``extra``."""
    return {
        **os.environ,
        "REDIS_URL": bench_redis_url(),
        "DEBUG": "0",
        "GRIDWORK_VAR_DIR": var,
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        **extra,
    }


@dataclasses.dataclass
class Server:
    """gunicorn, and nginx in front of it when there is one (``front``: what
    the load goes through, for the results)."""

    gunicorn: subprocess.Popen
    nginx: subprocess.Popen | None
    front: str


# Where gunicorn listens when nginx takes the bench's port.
UPSTREAM_PORT_OFFSET = 1000


def start_server(
    *,
    port: int,
    workers: int | None,
    env: dict,
    probe_path: str,
    log_path=None,
    threads: int | None = None,
) -> Server:
    """gunicorn with ``workers`` processes, reached on 127.0.0.1:``port``
    through nginx (``start_front``; straight when there is none), once it
    answers (``threads``: 1, the sync worker; more, that many threads a worker
    with the gthread worker; ``workers`` or ``threads`` None: what
    ``gunicorn.conf.py`` says)."""
    var = Path(env.get("GRIDWORK_VAR_DIR") or BENCH_DIR)
    nginx = start_front(port=port, upstream_port=port + UPSTREAM_PORT_OFFSET, var=var)
    gunicorn_port = port + UPSTREAM_PORT_OFFSET if nginx else port
    log = open(log_path, "w") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "governance.wsgi",
            "-b",
            f"127.0.0.1:{gunicorn_port}",
            *(["-w", str(workers)] if workers else []),
            "--keep-alive",
            "30",
            # 1: gunicorn's sync worker; more: gthread.
            *(["-k", "sync" if threads == 1 else "gthread"] if threads else []),
            *(["--threads", str(threads)] if threads else []),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    server = Server(
        process,
        nginx,
        "nginx with deploy/nginx.conf" if nginx else "none (straight to gunicorn)",
    )
    url = f"http://127.0.0.1:{port}{probe_path}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=2)
            return server
        except urllib.error.HTTPError as error:
            if error.code != 502:  # nginx's answer while gunicorn starts
                return server  # it answers (a 401 or 405 is an answer)
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.3)  # starting (a bench, not a test)
    stop_server(server)
    raise RuntimeError("gunicorn did not start")


def gunicorn_shape(workers: int, threads: int) -> str:
    """The server as started (0: ``gunicorn.conf.py``'s choice), for results."""
    import runpy

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    workers, threads = workers or conf["workers"], threads or conf["threads"]
    kind = f"gthread × {threads}" if threads > 1 else "sync"
    return f"gunicorn, {workers} {kind} workers"


def start_front(*, port: int, upstream_port: int, var: Path):
    """nginx on 127.0.0.1:``port`` with the proxy settings of
    ``deploy/nginx.conf`` (its ``upstream`` pointed at ``upstream_port``), as
    in production, or None when nginx is not installed or ``BENCH_FRONT=none``.

    Straight to gunicorn, each of the load's keep-alive connections stays with
    the worker process that accepted it, and gthread workers accept unevenly:
    one process often took all 8 (a run then measured one core, ~175/s against
    ~290/s). nginx opens a connection per request, as it does in production,
    so the processes share the load as they would there."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if not nginx or os.environ.get("BENCH_FRONT", "nginx") == "none":
        return None
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    front = var / "nginx"
    front.mkdir(parents=True, exist_ok=True)
    for old, new in (
        ("server web:8000;", f"server 127.0.0.1:{upstream_port};"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
        ("alias /data/media/;", f"alias {front}/media/;"),
    ):
        if old not in site:
            raise RuntimeError(f"deploy/nginx.conf has no {old!r} any more")
        site = site.replace(old, new)
    temp = "".join(
        f"{kind}_temp_path {front}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (front / "nginx.conf").write_text(
        f"daemon off; worker_processes auto; pid {front}/nginx.pid;"
        f" error_log {front}/error.log;\n"
        "events { worker_connections 1024; }\n"
        f"http {{ access_log off; {temp}\n{site}\n}}\n"
    )
    return subprocess.Popen(
        [nginx, "-c", str(front / "nginx.conf"), "-p", str(front)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_server(server: Server) -> None:
    for process in (server.nginx, server.gunicorn):
        if process is not None:
            process.terminate()
            process.wait(timeout=30)


def run_load(
    *, port: int, seconds: float, clients: int, build: str, params: dict
) -> dict:
    """The load from a second process (this file run as a script)."""
    spec = {
        "port": port,
        "seconds": seconds,
        "clients": clients,
        "build": build,
        "params": params,
    }
    done = subprocess.run(
        [sys.executable, __file__, json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "governance.settings"},
    )
    return json.loads(done.stdout)


def percentile(ordered: list[float], p: float):
    """The ``p`` quantile (nearest rank) of sorted samples, None if none."""
    if not ordered:
        return None
    return ordered[max(0, min(len(ordered) - 1, round(p * len(ordered)) - 1))]


def summarise(loaded: dict, ok_status: int) -> dict:
    results, elapsed = loaded["results"], loaded["elapsed"]
    latencies = sorted(t for status, t in results if status == ok_status)
    statuses: dict[str, int] = {}
    for status, _t in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    def ms(value):
        return round(value * 1000, 1) if value is not None else None

    return {
        "seconds": round(elapsed, 1),
        "clients": loaded["clients"],
        "requests": len(results),
        "ok": len(latencies),
        "statuses": statuses,
        "per_second": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": ms(percentile(latencies, 0.50)),
        "p95_ms": ms(percentile(latencies, 0.95)),
        "p99_ms": ms(percentile(latencies, 0.99)),
        "mean_ms": ms(statistics.fmean(latencies)) if latencies else None,
    }


def wrk_available() -> bool:
    """Whether ``wrk`` is installed (``BENCH_LOAD_CLIENT=python`` forces the
    Python client)."""
    if os.environ.get("BENCH_LOAD_CLIENT", "").lower() == "python":
        return False
    return shutil.which("wrk") is not None


def run_wrk(
    *,
    port: int,
    seconds: float,
    connections: int,
    threads: int,
    script: str,
    env: dict,
    ok_status: int,
) -> dict:
    """The load from ``wrk`` with the Lua ``script`` (in this directory), which
    prints one ``WRK_JSON {...}`` line at the end; the summary as ``summarise``
    gives it (latencies over every answer: wrk does not split them by status)."""
    done = subprocess.run(
        [
            shutil.which("wrk"),
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(BENCH_DIR / script),
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=BENCH_DIR,
        env={**os.environ, **env},
    )
    found = re.search(r"^WRK_JSON (\{.*\})$", done.stdout, re.MULTILINE)
    if not found:
        raise RuntimeError(f"wrk printed no summary: {done.stdout} {done.stderr}")
    raw = json.loads(found.group(1))
    elapsed = raw["duration_us"] / 1e6
    statuses = dict(raw["statuses"])
    failed = sum(raw["errors"][k] for k in ("connect", "read", "write", "timeout"))
    if failed:
        statuses["0"] = failed
    ok = statuses.get(str(ok_status), 0)
    return {
        "client": f"wrk, {threads} threads",
        "seconds": round(elapsed, 1),
        "clients": connections,
        "requests": raw["requests"],
        "ok": ok,
        "statuses": statuses,
        "per_second": round(ok / elapsed, 1) if elapsed else 0.0,
        "p50_ms": raw["p50_ms"],
        "p95_ms": raw["p95_ms"],
        "p99_ms": raw["p99_ms"],
        "mean_ms": raw["mean_ms"],
    }


# --- the load process ----------------------------------------------------------------


def _load(spec: dict) -> dict:
    import http.client

    sys.path[:0] = [str(ROOT), str(BENCH_DIR)]
    module_name, function_name = spec["build"].split(":")
    build = getattr(importlib.import_module(module_name), function_name)
    port, clients, params = spec["port"], spec["clients"], spec["params"]
    results, lock = [], threading.Lock()
    deadline = time.monotonic() + spec["seconds"]

    def connect():
        return http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def client(k):
        conn, n, mine = connect(), k, []
        while time.monotonic() < deadline:
            method, path, body, headers = build(n, params)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                answer = conn.getresponse()
                answer.read()
                status = answer.status
            except OSError:
                conn.close()
                conn = connect()
                status = 0
            mine.append((status, time.perf_counter() - started))
            n += clients
        conn.close()
        with lock:
            results.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "elapsed": time.monotonic() - started,
        "clients": clients,
        "results": results,
    }


if __name__ == "__main__":
    print(json.dumps(_load(json.loads(sys.argv[1]))))
