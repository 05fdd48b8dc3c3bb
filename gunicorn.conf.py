"""gunicorn settings, read by gunicorn from the working directory (the project
root, also in docker-compose.yml) or with ``-c gunicorn.conf.py``.

gunicorn writes ``Server: gunicorn`` on every response and has no setting to
turn it off: the response class below leaves that line out, so the server does
not name itself (the front proxy should hide its own version too, e.g. nginx
``server_tokens off``).

Workers: ``GUNICORN_WORKERS`` processes (default two a core), each gunicorn's
sync worker: one request at a time, no threads. It is meant to sit behind a
buffering proxy, as docker-compose.yml deploys it (deploy/nginx.conf: nginx
reads the whole request and takes the whole answer, so a slow phone holds
nginx, not a worker). Measured on the 2-core bench machine, ticket intake
through nginx (bench/bench_api.py's load, 8 connections, back to back runs):
4 sync workers 327–367 tickets/s (p95 27–30 ms), 3 sync 364–382, 5 sync
330–362, against 282–293/s (p95 44–47 ms) for 2 gthread workers × 4 threads:
threads of one process take turns on the GIL at every database round trip,
which cost ~0.5 ms of CPU a request more than separate processes. Without
a proxy in front (clients that keep connections open straight to gunicorn),
set ``GUNICORN_THREADS`` to 4: gthread workers, which keep connections alive.
Each process (each thread) holds its own database connection
(``CONN_MAX_AGE``): count that many connections a node."""

import os

from gunicorn.http import wsgi

workers = int(os.environ.get("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
# A sync worker silent this long is killed and restarted (gunicorn's default
# is 30 s, the same as one statement's web limit, WEB_DB_STATEMENT_TIMEOUT_MS):
# as long as nginx waits for an answer (deploy/nginx.conf, proxy_read_timeout).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))


class _Response(wsgi.Response):
    def default_headers(self):
        return [
            line
            for line in super().default_headers()
            if not line.lower().startswith("server:")
        ]


wsgi.Response = _Response
