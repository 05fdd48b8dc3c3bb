"""12345 inbound pushes through the real HTTP API: gunicorn on its own
PostgreSQL database (``gridwork_bench_hotline``), load from a second process on
loopback for a bounded time (``BENCH_SECONDS``, default 20) with
``BENCH_CLIENTS`` (default 16) keep-alive connections, each push a new ticket
signed as the platform signs it (``wrk`` with ``wrk_hotline.lua`` sending
pushes signed beforehand when wrk is installed, else the Python client). Prints
one JSON object: pushes/s (201s), p50/p95/p99 latency, the statements of one
push and of one replay (counted in process through the same view), the raw
single-row INSERT+COMMIT rate of this machine and the ratio, and the replay rate
(200s) for ``BENCH_REPLAY_SECONDS``.

``measure_push_statements()`` and ``run_load()`` are callable from another
bench (the API bench of issue 13)."""

import base64
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gridwork_bench_hotline"
)
# The server runs with DEBUG off, which refuses the development keys.
os.environ.setdefault("SECRET_KEY", "bench-only-secret-" + "x" * 40)
os.environ.setdefault(
    "PII_ENCRYPTION_KEYS",
    base64.urlsafe_b64encode(hashlib.sha256(b"bench-only-pii").digest()).decode(),
)
os.environ.setdefault("PII_HASH_KEY", "bench-only-pii-hash-" + "x" * 40)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _load
import _setup

SECONDS = float(os.environ.get("BENCH_SECONDS", 20))
REPLAY_SECONDS = float(os.environ.get("BENCH_REPLAY_SECONDS", 5))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", 16))
# 0: gunicorn.conf.py's choice (sync workers, two a core).
WORKERS = int(os.environ.get("BENCH_WORKERS", 0))
PORT = int(os.environ.get("BENCH_PORT", 8767))
PLATFORM = "bench12345"


def ensure_world() -> tuple[str, str]:
    """A street with communities and grids, a platform with its mappings; a
    fresh secret each run (returned with the code)."""
    from django.contrib.auth import get_user_model

    from grids.choices import RegionLevel
    from grids.models import Region
    from grids.services.regions import region_create
    from tickets.hotline import services as hotline
    from tickets.models import Category, HotlinePlatform
    from tickets.services import catalogue

    User = get_user_model()
    root = User.objects.filter(username="bench-hotline-root").first()
    if root is None:
        root = User.objects.create_superuser("bench-hotline-root", password=None)
    street = Region.objects.filter(name="压测街道", level=RegionLevel.STREET).first()
    if street is None:
        district = region_create(actor=root, name="压测区", level=RegionLevel.DISTRICT)
        street = region_create(
            actor=root, name="压测街道", level=RegionLevel.STREET, parent=district
        )
        for c in range(4):
            community = region_create(
                actor=root,
                name=f"压测社区{c + 1}",
                level=RegionLevel.COMMUNITY,
                parent=street,
            )
            for g in range(4):
                region_create(
                    actor=root,
                    name=f"压测社区{c + 1}第{g + 1}网格",
                    level=RegionLevel.GRID,
                    parent=community,
                )
        street.refresh_from_db()
    platform = HotlinePlatform.objects.filter(code=PLATFORM).first()
    if platform is None:
        platform, _secret = hotline.hotline_platform_create(
            actor=root,
            name="压测12345",
            code=PLATFORM,
            region=street,
            callback_url="http://127.0.0.1:9/callback",
        )
        category = Category.objects.filter(service_code="bench-zdjy").first()
        if category is None:
            category = catalogue.category_create(
                actor=root, name="占道经营", service_code="bench-zdjy"
            )
        hotline.hotline_category_mapping_save(
            actor=root, platform=platform, code="0101", category=category
        )
        grids = Region.objects.filter(level=RegionLevel.GRID).filter(
            tree_id=street.tree_id, lft__gt=street.lft, rght__lt=street.rght
        )
        for n, grid in enumerate(grids):
            hotline.hotline_area_mapping_save(
                actor=root, platform=platform, area_code=f"A{n:02d}", region=grid
            )
    secret = hotline.hotline_platform_rotate_secret(actor=root, platform_id=platform.pk)
    return PLATFORM, secret


def _push(n: int, prefix: str) -> dict:
    return {
        "number": f"{prefix}{n:08d}",
        "received_at": "2026-12-06T09:30:00+08:00",
        "caller_name": "李先生",
        "caller_phone": f"138{n % 10**8:08d}",
        "address": f"幸福路{n % 200}号",
        "area_code": f"A{n % 16:02d}",
        "content": "小区门口占道经营，早晚高峰影响通行",
        "category_code": "0101" if n % 5 else "9999",  # one in five unmapped
    }


def measure_push_statements(platform: str, secret: str) -> dict:
    """Statements of one new push and of one replay, through the same view and
    middleware (Django's test client, in process), counted from the first
    statement of the request to the last."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tickets.hotline import signing

    client = Client(HTTP_HOST="localhost")
    prefix = f"Q{int(time.time())}"
    out = {}
    for label, n in (("new", 1), ("replay", 1), ("new_second", 2)):
        body = json.dumps(_push(n, prefix)).encode()
        headers = signing.signed_headers(secret, platform, body)
        with CaptureQueriesContext(connection) as queries:
            answer = client.post(
                "/api/v1/hotline/tickets",
                data=body,
                content_type="application/json",
                headers=headers,
            )
        out[label] = {"status": answer.status_code, "statements": len(queries)}
    return out


def push_request(n: int, params: dict):
    """Request ``n`` of the load (``_load.run_load``): a signed push, a new
    number each (or, for the replay run, the same few numbers again)."""
    from tickets.hotline import signing

    number = n % params["clients"] if params["replay"] else n
    body = json.dumps(_push(number, params["prefix"])).encode()
    headers = {"Content-Type": "application/json"}
    headers.update(signing.signed_headers(params["secret"], params["platform"], body))
    return "POST", "/api/v1/hotline/tickets", body, headers


def run_load(platform, secret, *, seconds, clients, prefix, replay=False) -> dict:
    """Load from a second process for ``seconds``; rate and latencies. New pushes
    go through ``wrk`` when it is installed (``wrk_hotline.lua``, the pushes
    signed beforehand: the client then costs the 2 cores little), else through
    the Python client, which signs each push as it sends it."""
    if not replay and _load.wrk_available():
        return _run_wrk(
            platform, secret, seconds=seconds, clients=clients, prefix=prefix
        )
    loaded = _load.run_load(
        port=PORT,
        seconds=seconds,
        clients=clients,
        build="bench_hotline:push_request",
        params={
            "platform": platform,
            "secret": secret,
            "prefix": prefix,
            "replay": replay,
            "clients": clients,
        },
    )
    summary = _load.summarise(loaded, ok_status=200 if replay else 201)
    summary.pop("ok")
    summary["client"] = f"Python, {clients} threads"
    return summary


# More pushes than the server can take in a second, times the seconds.
WRK_PUSHES_PER_SECOND = 1_000


def _run_wrk(platform, secret, *, seconds, clients, prefix) -> dict:
    from tickets.hotline import signing

    var = tempfile.mkdtemp(prefix="gw-bench-hotline-wrk-")
    path = Path(var) / "pushes.tsv"
    count = int(WRK_PUSHES_PER_SECOND * (seconds + 5))
    now = time.time()
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            body = json.dumps(_push(n, prefix)).encode()
            headers = signing.signed_headers(secret, platform, body, now=now)
            out.write(
                f"{headers[signing.TIMESTAMP_HEADER]}\t"
                f"{headers[signing.SIGNATURE_HEADER]}\t{body.decode()}\n"
            )
    summary = _load.run_wrk(
        port=PORT,
        seconds=seconds,
        connections=clients,
        threads=1,
        script="wrk_hotline.lua",
        env={
            "WRK_REQUESTS": str(path),
            "WRK_PLATFORM": platform,
            "WRK_THREAD_COUNT": "1",
        },
        ok_status=201,
    )
    summary.pop("ok")
    if summary["requests"] > count:
        summary["note"] = "the run outran the signed pushes: some were replays"
    return summary


def raw_insert_rate(seconds: float = 3) -> dict:
    """Single-row INSERT + COMMIT on this server, one connection (the floor any
    request that writes a row pays)."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    count, deadline = 0, time.monotonic() + seconds
    with raw.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS bench_raw (id serial, v text)")
        raw.commit()
        while time.monotonic() < deadline:
            cursor.execute("INSERT INTO bench_raw (v) VALUES (%s)", ["x"])
            raw.commit()
            count += 1
    return {"per_second": round(count / seconds, 1)}


def _start_server(var: str):
    env = _load.server_env(
        var, ALLOWED_HOSTS="127.0.0.1,localhost", CELERY_TASK_ALWAYS_EAGER="0"
    )
    return _load.start_server(
        port=PORT,
        workers=WORKERS or None,
        env=env,
        probe_path="/api/v1/hotline/tickets",
        log_path=Path(var) / "gunicorn.log",
    )


def main():
    _setup.setup()
    platform, secret = ensure_world()
    result = {
        "machine_load": os.getloadavg(),
        "statements": measure_push_statements(platform, secret),
        "raw_insert_commit": raw_insert_rate(),
    }
    var = tempfile.mkdtemp(prefix="gw-bench-hotline-")
    server = _start_server(var)
    result["front"] = server.front
    prefix = f"B{int(time.time())}-"
    try:
        result["push"] = run_load(
            platform, secret, seconds=SECONDS, clients=CLIENTS, prefix=prefix
        )
        result["replay"] = run_load(
            platform,
            secret,
            seconds=REPLAY_SECONDS,
            clients=CLIENTS,
            prefix=prefix,
            replay=True,
        )
    finally:
        _load.stop_server(server)
    result["ratio_to_raw_insert"] = round(
        result["push"]["per_second"] / result["raw_insert_commit"]["per_second"], 3
    )
    result["server"] = _load.gunicorn_shape(WORKERS, 0)
    result["server_cache"] = "Redis" if _load.bench_redis_url() else "process memory"
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
