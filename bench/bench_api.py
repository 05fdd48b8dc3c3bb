"""The REST API under load: ticket intake (``POST /api/v1/tickets/`` with an API
token and an ``Idempotency-Key``) through gunicorn on this machine, the load
sent from a second process on loopback for a bounded time; the raw single-row
INSERT+COMMIT rate of the same database for scale; the statements one intake
costs; and the p95 of a ticket list page (``GET /api/v1/tickets/``) on the
bench's tickets. Prints one JSON object.

    .venv/bin/python bench/bench_api.py
    BENCH_API_SECONDS=30 BENCH_API_CLIENTS=16 .venv/bin/python bench/bench_api.py

The tickets come from ``bench_tickets.build`` (``BENCH_TICKETS``, default
1,000,000 here, on ``gridwork_bench_api``; built once); the tickets a run
creates stay (the event log is append-only), a few thousand more each run. Throttles are lifted
for the run (``API_THROTTLE_*``): the bench measures the server, not the limit.
"""

import base64
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gridwork_bench_api"
)
os.environ.setdefault("BENCH_TICKETS", "1000000")
os.environ.setdefault("BENCH_DISTRICTS", "2")
# One secret and one pair of personal-data keys for this process and the server
# (which runs with DEBUG off and refuses the development keys).
os.environ.setdefault("SECRET_KEY", "bench-only-secret-" + "x" * 40)
os.environ.setdefault(
    "PII_ENCRYPTION_KEYS",
    base64.urlsafe_b64encode(hashlib.sha256(b"bench-only-pii").digest()).decode(),
)
os.environ.setdefault("PII_HASH_KEY", "bench-only-pii-hash-" + "x" * 40)
BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import _load  # noqa: E402

SECONDS = float(os.environ.get("BENCH_API_SECONDS", 20))
CLIENTS = int(os.environ.get("BENCH_API_CLIENTS", 8))
# Worker processes and threads a worker (1 the sync worker, more gthread); 0:
# gunicorn.conf.py's choice (sync workers, two a core).
WORKERS = int(os.environ.get("BENCH_API_WORKERS", 0))
THREADS = int(os.environ.get("BENCH_API_THREADS", 0))
# The load client: wrk when installed (BENCH_LOAD_CLIENT=python forces the
# Python client); BENCH_API_BOTH_CLIENTS=1 also runs the other one after it.
WRK_THREADS = int(os.environ.get("BENCH_API_WRK_THREADS", 1))
BOTH_CLIENTS = os.environ.get("BENCH_API_BOTH_CLIENTS", "0") == "1"
# Seconds of load before the measured ones, not counted: every worker (and
# thread) past its first requests (lazy imports, URL resolver, connection).
WARMUP = float(os.environ.get("BENCH_API_WARMUP_SECONDS", 2))
PORT = int(os.environ.get("BENCH_API_PORT", 8766))
LIST_REPEAT = int(os.environ.get("BENCH_API_LIST_REPEAT", 40))
RAW_SECONDS = float(os.environ.get("BENCH_API_RAW_SECONDS", 5))


def _p95(samples):
    return _load.percentile(sorted(samples), 0.95)


def intake_request(n: int, params: dict):
    """Request ``n`` of the load (``_load.run_load``): a new ticket with a fresh
    ``Idempotency-Key``."""
    regions = params["regions"]
    body = json.dumps(
        {
            "source": "patrol",
            "region": regions[n % len(regions)],
            "description": f"压测工单 {n}",
            "address": "幸福路1号",
        }
    ).encode()
    headers = {
        "Authorization": f"Token {params['key']}",
        "Content-Type": "application/json",
        "Idempotency-Key": str(uuid.uuid4()),
    }
    return "POST", "/api/v1/tickets/", body, headers


# --- the measuring process -------------------------------------------------------


def raw_insert_rate(seconds: float) -> dict:
    """Single-row INSERT + COMMIT, one client, on the bench database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw_insert "
            "(id bigserial PRIMARY KEY, body text, at timestamptz)"
        )
    connection.set_autocommit(True)
    count, stop_at = 0, time.perf_counter() + seconds
    started = time.perf_counter()
    with connection.cursor() as cursor:
        while time.perf_counter() < stop_at:
            cursor.execute(
                "INSERT INTO bench_raw_insert (body, at) VALUES (%s, now())",
                ["压测"],
            )
            count += 1
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_raw_insert")
    # With DEBUG on (bench/_setup.py) every INSERT above went into the
    # connection's query log, a deque capped at 9,000: full, it leaves
    # CaptureQueriesContext nothing to count (its slice is taken by length), and
    # statements_per_intake reported 0 once the raw rate passed 1,800/s.
    connection.queries_log.clear()
    return {"rows_per_s": round(count / elapsed, 1), "seconds": round(elapsed, 1)}


def statements_per_intake(root, user, regions) -> dict:
    """The statements of one intake, counted in this process (rolled back)."""
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from grids.services.api_tokens import api_token_create

    counts, round_trips = [], []
    with transaction.atomic():
        _token, key = api_token_create(actor=root, user=user, name="bench-count")
        client = Client(HTTP_HOST="127.0.0.1")
        for n in range(10):
            body = {"source": "patrol", "region": regions[n], "description": "计数"}
            with CaptureQueriesContext(connection) as captured:
                response = client.post(
                    "/api/v1/tickets/",
                    body,
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Token {key}",
                    HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
                )
            assert response.status_code == 201, response.content
            counts.append(
                sum(
                    1
                    for q in captured.captured_queries
                    if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
                )
            )
            # Every round trip; the request's own transaction is a savepoint
            # pair here, its BEGIN and COMMIT under gunicorn.
            round_trips.append(len(captured.captured_queries))
        transaction.set_rollback(True)
    return {
        "median": statistics.median(counts),
        "max": max(counts),
        "round_trips_median": statistics.median(round_trips),
    }


def list_page_p95(url, key, repeat) -> dict:
    times = []
    for _ in range(repeat):
        request = urllib.request.Request(url, headers={"Authorization": f"Token {key}"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "rows": len(body["results"]),
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(_p95(times), 1),
    }


def main():
    import _setup

    _setup.setup()
    import bench_tickets
    from django.db import connection

    from grids.models import User
    from grids.services.api_tokens import api_token_create
    from tickets.models import Ticket

    state = bench_tickets.build()
    district = state["tree"]["levels"]["district"][0]
    street = state["tree"]["levels"]["street"][0]
    street_staff = User.objects.get(username=f"bench-street-{street}")
    supervisor = User.objects.get(username=f"bench-sup-{district}")
    street_grids = [row[0] for row in state["tree"]["grids"] if row[2] == street]
    # Not "bench-…": bench_tickets counts its own accounts by that prefix.
    root, _created = User.objects.get_or_create(
        username="api-bench-root", defaults={"is_superuser": True, "password": "!"}
    )
    tickets_before = Ticket.objects.count()
    result = {
        "tickets": tickets_before,
        "server": _load.gunicorn_shape(WORKERS, THREADS),
        "load": f"{CLIENTS} connections from a second process, {SECONDS:.0f} s",
        "server_cache": "Redis" if _load.bench_redis_url() else "process memory",
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg()[0],
    }
    result["raw_insert_commit"] = raw_insert_rate(RAW_SECONDS)
    result["statements_per_intake"] = statements_per_intake(
        root, street_staff, street_grids
    )
    _token, intake_key = api_token_create(
        actor=root, user=street_staff, name="bench intake"
    )
    _token, list_key = api_token_create(actor=root, user=supervisor, name="bench list")
    connection.close()

    var = tempfile.mkdtemp(prefix="gw-bench-api-")
    env = _load.server_env(
        var,
        API_THROTTLE_USER="1000000/min",
        API_THROTTLE_WRITE="1000000/min",
        API_THROTTLE_ANON="1000000/min",
    )
    base = f"http://127.0.0.1:{PORT}"
    server = _load.start_server(
        port=PORT,
        workers=WORKERS or None,
        threads=THREADS or None,
        env=env,
        probe_path="/api/v1/regions/",
    )
    result["front"] = server.front
    regions = street_grids[:200]
    clients = ["wrk", "python"] if _load.wrk_available() else ["python"]
    if not BOTH_CLIENTS:
        clients = clients[:1]
    try:
        if WARMUP:
            _load.run_load(
                port=PORT,
                seconds=WARMUP,
                clients=CLIENTS,
                build="bench_api:intake_request",
                params={"key": intake_key, "regions": regions},
            )
        for number, client in enumerate(clients):
            if client == "wrk":
                loaded = _load.run_wrk(
                    port=PORT,
                    seconds=SECONDS,
                    connections=CLIENTS,
                    threads=WRK_THREADS,
                    script="wrk_intake.lua",
                    env={
                        "WRK_TOKEN": intake_key,
                        "WRK_REGIONS": ",".join(str(r) for r in regions),
                        "WRK_PREFIX": uuid.uuid4().hex[:16],
                    },
                    ok_status=201,
                )
            else:
                loaded = _load.summarise(
                    _load.run_load(
                        port=PORT,
                        seconds=SECONDS,
                        clients=CLIENTS,
                        build="bench_api:intake_request",
                        params={"key": intake_key, "regions": regions},
                    ),
                    ok_status=201,
                )
                loaded["client"] = f"Python, {CLIENTS} threads"
            rate = loaded["per_second"]
            result["intake" if number == 0 else f"intake_{client}_client"] = {
                "client": loaded["client"],
                "tickets_per_s": rate,
                "created": loaded["ok"],
                "errors": {k: v for k, v in loaded["statuses"].items() if k != "201"},
                "median_ms": loaded["p50_ms"],
                "p95_ms": loaded["p95_ms"],
                "ratio_to_raw_insert": round(
                    rate / result["raw_insert_commit"]["rows_per_s"], 3
                ),
                "target_tickets_per_s": 300,
            }
        result["district_supervisor_list_page"] = list_page_p95(
            base + "/api/v1/tickets/", list_key, LIST_REPEAT
        )
        result["district_supervisor_list_page"]["target_p95_ms"] = 100
        result["street_staff_list_page_stage_filter"] = list_page_p95(
            base + "/api/v1/tickets/?stage=accepted", intake_key, LIST_REPEAT
        )
    finally:
        _load.stop_server(server)
    # The tickets the load made stay (their events are append-only); the tokens
    # and the request keys of the run go.
    from django.db import connection as conn

    with conn.cursor() as cursor:
        cursor.execute("DELETE FROM grids_apitoken WHERE name LIKE 'bench %%'")
        cursor.execute("DELETE FROM grids_idempotencykey WHERE scope = 'api'")
    result["tickets_after"] = Ticket.objects.count()
    result["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
