"""The phone app's budgets (issue 11): bytes per /m/ page on a first load and on
a later one (shell assets cached by the service worker and the browser), SQL
statements per page, and the server time (p50/p95) of a grid worker's ticket
list with N tickets in the database (default 1,000,000, built once with
``bench_tickets``' builder on the database ``gridwork_bench_phone``). With
``BENCH_LIGHTHOUSE=1`` it also runs Lighthouse 12.2.3 (``bench/node_modules``,
``npm i -E lighthouse@12.2.3`` in bench/) with the mobile preset against a
gunicorn server on this database, logged in by a session cookie, and reports the
performance and accessibility scores. Prints one JSON object.

    .venv/bin/python bench/bench_phone.py
    BENCH_TICKETS=100000 BENCH_LIGHTHOUSE=1 .venv/bin/python bench/bench_phone.py

Bytes are counted as nginx sends them (gzip level 6 for HTML, CSS, JS and the
manifest, as ``deploy/nginx.conf`` and whitenoise's pre-compressed files do);
photos are not counted.
"""

import base64
import gzip
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gridwork_bench_phone"
)
os.environ.setdefault("BENCH_DISTRICTS", "10")
# The Lighthouse server checks the session made here: one secret for both, and
# one pair of personal-data keys (the server runs with DEBUG off, which refuses
# the development keys).
os.environ.setdefault("SECRET_KEY", "bench-only-secret-" + "x" * 40)
os.environ.setdefault(
    "PII_ENCRYPTION_KEYS",
    base64.urlsafe_b64encode(hashlib.sha256(b"bench-only-pii").digest()).decode(),
)
os.environ.setdefault("PII_HASH_KEY", "bench-only-pii-hash-" + "x" * 40)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup

REPEAT = int(os.environ.get("BENCH_REPEAT", 200))
BENCH_DIR = Path(__file__).resolve().parent
ASSET_RE = re.compile(r'(?:href|src)="(/static/[^"]+)"')
PAGES_BUDGET = {"first_load_bytes": 60 * 1024, "later_load_bytes": 15 * 1024}
LIGHTHOUSE = BENCH_DIR / "node_modules" / ".bin" / "lighthouse"


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def _asset_bytes(path: str) -> int:
    from django.contrib.staticfiles import finders

    found = finders.find(path.removeprefix("/static/"))
    data = Path(found).read_bytes()
    return len(data) if path.endswith(".png") else _gz(data)


def _worker_with_most_tickets():
    """The grid worker of the grid holding the most open tickets."""
    from django.db.models import Count

    from grids.models import User
    from tickets.choices import OPEN_STAGES
    from tickets.models import Ticket

    grid = (
        Ticket.objects.filter(stage__in=OPEN_STAGES)
        .values("region")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    return User.objects.get(username=f"bench-grid-{grid['region']}"), grid["n"]


def _pages(worker) -> dict:
    from tickets.choices import OPEN_STAGES
    from tickets.models import Ticket

    ticket = (
        Ticket.objects.visible_to(worker)
        .filter(stage__in=OPEN_STAGES)
        .order_by("-received_at")
        .first()
    )
    return {
        "home": "/m/",
        "my_tickets": "/m/tickets/",
        "my_tickets_overdue": "/m/tickets/?overdue=yes",
        "ticket_detail": f"/m/tickets/{ticket.pk}/",
        "report_event": "/m/tickets/report/",
        "inbox": "/m/grid/inbox/",
        "wishes": "/m/party/wishes/",
        "propose_points": "/m/points/propose/",
        "login": "/m/login/",
    }


def measure_pages(client, pages: dict) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    out = {}
    for name, path in pages.items():
        if name == "login":
            from django.test import Client

            page_client = Client(HTTP_HOST="127.0.0.1")
        else:
            page_client = client
        with CaptureQueriesContext(connection) as queries:
            response = page_client.get(path)
        html = response.content
        assets = sorted(set(ASSET_RE.findall(html.decode())))
        asset_bytes = {a: _asset_bytes(a) for a in assets}
        first = _gz(html) + sum(asset_bytes.values())
        later = _gz(html)
        out[name] = {
            "status": response.status_code,
            "queries": len(queries),
            "html_bytes_gzip": later,
            "first_load_bytes": first,
            "later_load_bytes": later,
            "within_budget": first <= PAGES_BUDGET["first_load_bytes"]
            and later <= PAGES_BUDGET["later_load_bytes"],
            "assets": asset_bytes,
        }
    return out


def measure_list_time(client, path: str, repeat: int) -> dict:
    client.get(path)  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    times.sort()
    return {
        "path": path,
        "requests": repeat,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
        "max_ms": round(times[-1], 1),
    }


def run_lighthouse(session_key: str, pages: dict) -> dict:
    """Lighthouse (mobile preset) against gunicorn on the bench database."""
    if not LIGHTHOUSE.exists():
        return {"skipped": "bench/node_modules has no lighthouse"}
    root = BENCH_DIR.parent
    var = tempfile.mkdtemp(prefix="gw-bench-phone-")
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": os.environ["SECRET_KEY"],
        "GRIDWORK_VAR_DIR": var,
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
    }
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=root,
        env=env,
        check=True,
    )
    port = os.environ.get("BENCH_PORT", "8765")
    server = subprocess.Popen(
        [
            str(Path(python).with_name("gunicorn")),
            "governance.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results = {}
    try:
        import urllib.request

        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/m/login/", timeout=2)
                break
            except OSError:
                time.sleep(0.3)  # the server is starting (a bench, not a test)
        headers = json.dumps({"Cookie": f"sessionid={session_key}"})
        for name in ("home", "my_tickets", "ticket_detail", "report_event"):
            url = f"http://127.0.0.1:{port}{pages[name]}"
            out = subprocess.run(
                [
                    str(LIGHTHOUSE),
                    url,
                    "--output=json",
                    "--quiet",
                    "--only-categories=performance,accessibility",
                    "--form-factor=mobile",
                    "--screenEmulation.mobile",
                    f"--extra-headers={headers}",
                    "--chrome-flags=--headless --no-sandbox --disable-gpu",
                ],
                env={**env, "CHROME_PATH": "/usr/bin/chromium"},
                capture_output=True,
                text=True,
                timeout=300,
            )
            if out.returncode != 0:
                results[name] = {"error": out.stderr[-300:]}
                continue
            report = json.loads(out.stdout)
            results[name] = {
                "url": report["finalDisplayedUrl"],
                "logged_in": "/m/login/" not in report["finalDisplayedUrl"],
                "performance": round(
                    report["categories"]["performance"]["score"] * 100
                ),
                "accessibility": round(
                    report["categories"]["accessibility"]["score"] * 100
                ),
                "transfer_bytes": report["audits"]["total-byte-weight"]["numericValue"],
            }
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def main():
    _setup.setup()
    import bench_tickets
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import Client

    from tickets.models import Ticket

    built = bench_tickets.build()
    # The steady state autovacuum keeps: statistics of every table (the builder
    # analyses only the ticket table; the tree and accounts are new too).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    worker, open_in_grid = _worker_with_most_tickets()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(worker)
    pages = _pages(worker)
    result = {
        "tickets": Ticket.objects.count(),
        "build": built["build"],
        "worker_open_tickets": open_in_grid,
        "worker_visible_tickets": Ticket.objects.visible_to(worker).count(),
        "budget": PAGES_BUDGET,
        "pages": measure_pages(client, pages),
        "list_time": measure_list_time(client, "/m/tickets/", REPEAT),
        "list_time_overdue": measure_list_time(
            client, "/m/tickets/?overdue=yes", REPEAT // 2
        ),
    }
    if os.environ.get("BENCH_LIGHTHOUSE") == "1":
        session = SessionStore()
        session["_auth_user_id"] = str(worker.pk)
        session["_auth_user_backend"] = "governance.auth_backends.ModelBackend"
        session["_auth_user_hash"] = worker.get_session_auth_hash()
        session.create()
        result["lighthouse"] = run_lighthouse(session.session_key, pages)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
