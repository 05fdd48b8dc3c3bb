"""gunicorn settings, read by gunicorn from the working directory (the project
root, also in docker-compose.yml) or with ``-c gunicorn.conf.py``.

gunicorn writes ``Server: gunicorn`` on every response and has no setting to
turn it off: the response class below leaves that line out, so the server does
not name itself (the front proxy should hide its own version too, e.g. nginx
``server_tokens off``).

Workers: gthread, ``GUNICORN_THREADS`` (4) threads a worker process. An intake
request spends much of its time waiting for PostgreSQL (~9 round trips); with
sync workers a process sits idle through each wait, with threads another
request of the same process runs meanwhile, at no extra memory. Measured on the
2-core bench machine (bench/bench_api.py, busy machine, back to back): 2
workers × 4 threads 66–74 tickets/s against 40–53 for 3 sync workers; 2 × 8
threads did worse (43/s: the GIL and the cores are the limit then). The number
of processes stays one per core (``--workers``, set in
docker-compose.yml). Each thread holds its own database connection
(``CONN_MAX_AGE``): count workers × threads connections a node."""

import os

from gunicorn.http import wsgi

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))


class _Response(wsgi.Response):
    def default_headers(self):
        return [
            line
            for line in super().default_headers()
            if not line.lower().startswith("server:")
        ]


wsgi.Response = _Response
