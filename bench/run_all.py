"""`make bench`: every bench at district scale, on bench databases of the
PostgreSQL server at ``DATABASE_URL`` (default 127.0.0.1:5432), then one JSON
object on stdout, the same in bench/RESULTS.json, and bench/RESULTS.md with the
machine described and each figure next to its target (issue 10).

Runs, each a separate process on its own database (created if missing, data
built once and reused):

- grids: bench_grids.py, 2,062 grids (620,000 households) on ``gridwork_bench``;
- tickets_district: bench_tickets.py, 2,000,000 tickets with 1 % overdue on
  ``gridwork_bench_tickets`` (``BENCH_DISTRICTS=4``: its tree's nearest to a
  district's 2,062 grids);
- tickets_backlog: bench_tickets.py, 100,000 tickets with 32 % overdue on
  ``gridwork_bench_tickets_backlog``;
- dashboard: bench_dashboard.py, the district dashboard page on the
  tickets_district data (same database and settings);
- io: bench_io.py (import/export rows/s) on ``gridwork_bench_io``, if present;
- api: bench_api.py (intake through gunicorn and the API list page) on
  ``gridwork_bench_api``, 1,000,000 tickets;
- hotline: bench_hotline.py (signed 12345 pushes through gunicorn) on
  ``gridwork_bench_hotline``;
- ratings: bench_ratings.py, ``rate_grids`` and the five-star appraisal of a
  month over 49,000 grids and 2,000,000 tickets on ``gridwork_bench_ratings``.

``BENCH_ONLY=grids,io`` runs some of them (the others' last results are kept); ``BENCH_NOTE`` is written into
RESULTS.md (e.g. what else loaded the machine). Text after the line
``<!-- notes -->`` in RESULTS.md is kept from one run to the next.
"""

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
NOTES_MARK = "<!-- notes -->"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/gridwork_bench"

RUNS = (
    ("grids", "bench_grids.py", "gridwork_bench", {"BENCH_GRIDS": "2062"}),
    (
        "tickets_district",
        "bench_tickets.py",
        "gridwork_bench_tickets",
        {
            "BENCH_TICKETS": "2000000",
            "BENCH_OVERDUE_SHARE": "0.01",
            "BENCH_DISTRICTS": "4",
        },
    ),
    (
        "tickets_backlog",
        "bench_tickets.py",
        "gridwork_bench_tickets_backlog",
        {"BENCH_TICKETS": "100000", "BENCH_OVERDUE_SHARE": "0.32"},
    ),
    (
        # The dashboard on the district run's data (same database and size:
        # the tickets are built once); it adds its summary rows and ratings.
        "dashboard",
        "bench_dashboard.py",
        "gridwork_bench_tickets",
        {
            "BENCH_TICKETS": "2000000",
            "BENCH_OVERDUE_SHARE": "0.01",
            "BENCH_DISTRICTS": "4",
        },
    ),
    (
        # Issue 12: the monthly rating at province scale (100 districts, 49,000
        # grids) over bench_tickets' 2,000,000 tickets, on its own database.
        "ratings",
        "bench_ratings.py",
        "gridwork_bench_ratings",
        {"BENCH_TICKETS": "2000000", "BENCH_DISTRICTS": "100"},
    ),
    (
        "io",
        "bench_io.py",
        "gridwork_bench_io",
        # A street's 18,000-household file; the resident import's rate measured
        # on 5,000 rows (the whole 50,000 take about an hour on 2 busy cores).
        {"BENCH_IO_HOUSEHOLDS": "18000", "BENCH_IO_RESIDENTS_IMPORT": "5000"},
    ),
    (
        "api",
        "bench_api.py",
        "gridwork_bench_api",
        # Intake through gunicorn for 20 s from a second process; the list page
        # on 1,000,000 tickets (issue 13).
        {
            "BENCH_TICKETS": "1000000",
            "BENCH_DISTRICTS": "2",
            "BENCH_API_SECONDS": "20",
            "BENCH_API_CLIENTS": "8",
        },
    ),
    # The 12345 inbound path (issue 13): signed pushes through gunicorn.
    ("hotline", "bench_hotline.py", "gridwork_bench_hotline", {"BENCH_SECONDS": "20"}),
)

# Issue 10's targets: (measure, at, target, run, candidate paths, unit, limit,
# higher is better). The first path found in the run's JSON is the figure.
TARGETS = (
    (
        "district supervisor's ticket list, page + count",
        "2,000,000 tickets",
        "p95 ≤ 250 ms",
        "tickets_district",
        (
            "district_supervisor_ticket_list.p95_ms",
            "district_supervisor_ticket_list.median_ms",
        ),
        "ms",
        250,
        False,
    ),
    (
        "street staff's ticket list / triage queue",
        "2,000,000 tickets",
        "p95 ≤ 100 ms",
        "tickets_district",
        ("street_ticket_list.p95_ms", "street_ticket_list.median_ms"),
        "ms",
        100,
        False,
    ),
    (
        "district dashboard page",
        "2,000,000 tickets",
        "p95 ≤ 250 ms",
        "dashboard",
        ("district_dashboard.p95_ms", "district_dashboard.median_ms"),
        "ms",
        250,
        False,
    ),
    (
        "households changelist, district supervisor",
        "620,000 households (2,062 grids)",
        "p95 ≤ 150 ms",
        "grids",
        ("households_changelist_district.p95_ms",),
        "ms",
        150,
        False,
    ),
    (
        "escalation pass",
        "2,000,000 tickets, 1% overdue",
        "≤ 3 s",
        "tickets_district",
        ("escalate_overdue.first_run.seconds",),
        "s",
        3,
        False,
    ),
    (
        "escalation pass",
        "100,000 tickets, 32% overdue",
        "≤ 5 s",
        "tickets_backlog",
        ("escalate_overdue.first_run.seconds",),
        "s",
        5,
        False,
    ),
    (
        "escalation peak RSS (a fresh worker process)",
        "100,000 tickets, 32% overdue",
        "≤ 150 MB",
        "tickets_backlog",
        (
            "escalation_in_worker.process_peak_rss_mb",
            "escalate_overdue.peak_rss_mb_after",
        ),
        "MB",
        150,
        False,
    ),
    (
        "`rate_grids(month)`",
        "49,000 grids, 2,000,000 tickets",
        "≤ 30 s",
        "ratings",
        ("rate_grids.seconds",),
        "s",
        30,
        False,
    ),
    (
        "`rate_grids(month)` peak RSS",
        "49,000 grids, 2,000,000 tickets",
        "≤ 300 MB",
        "ratings",
        ("rate_grids.peak_rss_mb",),
        "MB",
        300,
        False,
    ),
    (
        "`ticket_create` in-process",
        "100,000-ticket table",
        "≥ 300 tickets/s",
        "tickets_backlog",
        ("ticket_create.per_second", "ticket_create.tickets_per_second"),
        "/s",
        300,
        True,
    ),
    (
        "ticket intake through the HTTP API (gunicorn, load from a second process)",
        "1,000,000 tickets",
        "≥ 300 tickets/s",
        "api",
        ("intake.tickets_per_s",),
        "/s",
        300,
        True,
    ),
    (
        "12345 inbound push through the HTTP API (signed, gunicorn)",
        "a street, new numbers",
        "≥ 300 tickets/s",
        "hotline",
        ("push.per_second",),
        "/s",
        300,
        True,
    ),
    (
        "API ticket list page, district supervisor",
        "1,000,000 tickets",
        "p95 ≤ 100 ms",
        "api",
        ("district_supervisor_list_page.p95_ms",),
        "ms",
        100,
        False,
    ),
    (
        "`ticket_create` statements",
        "100,000-ticket table",
        "≤ 4 statements",
        "tickets_backlog",
        ("ticket_create.statements", "ticket_create.queries"),
        "",
        4,
        False,
    ),
)


def _server_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def require_postgresql(url: str) -> str:
    """The server's version, or exit with a clear message if it is unreachable."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(
            f"make bench needs PostgreSQL: DATABASE_URL is {parts.scheme}://…; "
            "set DATABASE_URL=postgres://user@host:port/any_name"
        )
    try:
        import psycopg2

        conn = psycopg2.connect(_with_database(url, "postgres"), connect_timeout=3)
    except Exception as exc:
        sys.exit(
            f"make bench needs PostgreSQL, and none answered at "
            f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432} ({exc}). "
            "Start it, or set DATABASE_URL to a server that runs."
        )
    with conn.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    conn.close()
    return version


def machine(pg_version: str) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "postgresql": pg_version,
        "python": platform.python_version(),
        "os": platform.platform(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _json_from(stdout: str):
    """The JSON object a bench printed (logs before it are skipped)."""
    decoder = json.JSONDecoder()
    for start, line in enumerate(stdout.splitlines(keepends=True)):
        if line.startswith("{"):
            offset = sum(len(x) for x in stdout.splitlines(keepends=True)[:start])
            return decoder.raw_decode(stdout[offset:])[0]
    return None


def run(name, script, database, knobs, url) -> dict:
    path = BENCH / script
    if not path.exists():
        return {"skipped": f"{script} is not in bench/"}
    env = {**os.environ, **knobs, "DATABASE_URL": _with_database(url, database)}
    for knob in knobs:  # the caller's environment wins, e.g. BENCH_GRIDS=200
        if knob in os.environ:
            env[knob] = os.environ[knob]
    started = time.perf_counter()
    print(f"make bench: {name} ({script} on {database})…", file=sys.stderr)
    process = subprocess.run(
        [sys.executable, str(path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = round(time.perf_counter() - started, 1)
    result = _json_from(process.stdout) if process.returncode == 0 else None
    outcome = {
        "database": database,
        "knobs": {k: env[k] for k in knobs},
        "seconds": seconds,
        "exit_code": process.returncode,
    }
    if result is None:
        outcome["error"] = (process.stderr or process.stdout)[-3000:]
    else:
        outcome["result"] = result
    return outcome


def lookup(data, path):
    for key in path.split("."):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _plan_summary(plan) -> str:
    if not isinstance(plan, dict):
        return ""
    scans = ", ".join(plan.get("scans", [])[:4])
    return f"{plan.get('execution_ms')} ms in the database ({scans})"


def _gap(run_name, figure_path, runs) -> str:
    """What the run's JSON says about where the time went."""
    result = (runs.get(run_name) or {}).get("result") or {}
    head = figure_path.split(".")[0]
    measured = result.get(head) if isinstance(result.get(head), dict) else {}
    parts = []
    if "database_ms" in measured and "p50_ms" in measured:
        parts.append(
            f"of a {measured['p50_ms']} ms median request, "
            f"{measured['database_ms']} ms were SQL ({measured.get('statements')} "
            "statements), the rest Django's admin rendering 100 rows"
        )
    for label in ("page_plan", "count_plan"):
        if measured.get(label):
            parts.append(f"{label.replace('_', ' ')}: {_plan_summary(measured[label])}")
    if head == "escalate_overdue" and "overdue_in_escalating_stages" in result:
        parts.append(
            f"{result['overdue_in_escalating_stages']} overdue in escalating stages"
        )
    if head == "escalate_overdue" and measured:
        plan = measured.get("candidate_query_plan_first_run")
        if plan:
            parts.append(f"candidate query: {_plan_summary(plan)}")
        if measured.get("batches") is not None:
            parts.append(f"{measured['batches']} batches")
    return "; ".join(parts)


def targets_table(runs) -> list[str]:
    lines = [
        "| measure | at | target | measured | verdict | where the time goes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for measure, at, target, run_name, paths, unit, limit, higher in TARGETS:
        outcome = runs.get(run_name) or {}
        result = outcome.get("result")
        figure, used = None, None
        for path in paths:
            figure = lookup(result, path) if result else None
            if figure is not None:
                used = path
                break
        if figure is None:
            if "skipped" in outcome:
                why = outcome["skipped"]
            elif "error" in outcome:
                why = f"{run_name} failed (exit {outcome.get('exit_code')})"
            elif outcome:
                why = f"not reported by the bench (looked for {', '.join(paths)})"
            else:
                why = "not run"
            lines.append(f"| {measure} | {at} | {target} | — | not measured | {why} |")
            continue
        met = figure >= limit if higher else figure <= limit
        label = used.rsplit(".", 1)[-1]
        shown = f"{figure} {unit}".strip() + (
            f" ({label})" if label not in ("p95_ms", "seconds") else ""
        )
        if "median" in label:
            verdict = "median only (the bench gives no p95)"
        else:
            verdict = "met" if met else "**missed**"
        lines.append(
            f"| {measure} | {at} | {target} | {shown} | {verdict} | "
            f"{_gap(run_name, used, runs)} |"
        )
    return lines


def write_results_md(report) -> None:
    path = BENCH / "RESULTS.md"
    kept = ""
    if path.exists():
        text = path.read_text()
        if NOTES_MARK in text:
            kept = text.split(NOTES_MARK, 1)[1]
    m = report["machine"]
    lines = [
        "# Bench results",
        "",
        "Written by `make bench` (bench/run_all.py); the whole JSON is in "
        "bench/RESULTS.json. Figures are from one run on the machine below.",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores",
        f"- memory: {m['memory_gb']} GB",
        f"- PostgreSQL {m['postgresql']}, Python {m['python']}, {m['os']}",
        f"- date: {m['date']}; load average at start: {m['load_average_at_start']}",
    ]
    if report.get("note"):
        lines.append(f"- note: {report['note']}")
    lines += ["", "## Targets (issue 10)", "", *targets_table(report["runs"]), ""]
    lines += ["## Runs", ""]
    for name, outcome in report["runs"].items():
        if "skipped" in outcome:
            lines.append(f"- {name}: skipped ({outcome['skipped']})")
            continue
        knobs = ", ".join(f"{k}={v}" for k, v in outcome["knobs"].items()) or "—"
        state = "ok" if "result" in outcome else f"failed, exit {outcome['exit_code']}"
        lines.append(
            f"- {name}: {state}, {outcome['seconds']} s on `{outcome['database']}` "
            f"({knobs}), run {outcome.get('date', report['machine']['date'])}"
        )
    grids = (report["runs"].get("grids") or {}).get("result")
    if grids:
        lines += ["", "## Grids lists (bench_grids.py)", ""]
        lines += [
            f"{grids['households']:,} households, {grids['residents']:,} residents, "
            f"{grids['grids']:,} grids, {grids['regions']:,} regions.",
            "",
            "| page | p50 ms | p95 ms | statements | SQL ms | count query ms | load |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for key, value in grids.items():
            if isinstance(value, dict) and "p95_ms" in value:
                count = (value.get("count_plan") or {}).get("execution_ms")
                lines.append(
                    f"| {key} | {value['p50_ms']} | {value['p95_ms']} | "
                    f"{value['statements']} | {value['database_ms']} | {count} | "
                    f"{value.get('load_average', '')} |"
                )
        old = grids.get("old_resident_count_annotation_page") or {}
        lines += [
            "",
            "Before the stored count: the page query with the per-page "
            "`Count('residents')` annotation took "
            f"{old.get('execution_ms')} ms in the database on the same data.",
        ]
        for key in (
            "street_grid_list",
            "district_grid_list",
            "household_resident_counts_refresh_all",
            "region_counts_refresh_all",
        ):
            if key in grids:
                lines.append(f"- {key}: {grids[key]['median_ms']} ms")
    lines += ["", NOTES_MARK]
    path.write_text("\n".join(lines) + (kept if kept else "\n"))


def main():
    url = _server_url()
    pg_version = require_postgresql(url)
    only = {n for n in os.environ.get("BENCH_ONLY", "").split(",") if n}
    report = {
        "machine": machine(pg_version),
        "note": os.environ.get("BENCH_NOTE", ""),
        "runs": {},
    }
    earlier = {}
    if only and (BENCH / "RESULTS.json").exists():
        # A partial run keeps the other runs' last results (each with its date).
        earlier = json.loads((BENCH / "RESULTS.json").read_text()).get("runs", {})
    for name, script, database, knobs in RUNS:
        if only and name not in only:
            if name in earlier:
                report["runs"][name] = earlier[name]
            continue
        report["runs"][name] = run(name, script, database, knobs, url)
        report["runs"][name]["date"] = report["machine"]["date"]
    (BENCH / "RESULTS.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n"
    )
    write_results_md(report)
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    failed = [n for n, o in report["runs"].items() if "error" in o]
    if failed:
        sys.exit(f"make bench: {', '.join(failed)} failed (see bench/RESULTS.json)")


if __name__ == "__main__":
    main()
