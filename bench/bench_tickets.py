"""Province scale for the ticket lists, jobs and intake: N tickets (default
2,000,000) over a tree of 10 districts (4,900 grids), spread over every stage, a
chosen share of them (``BENCH_OVERDUE_SHARE``, up to 0.40) overdue in an
escalating stage. Measures the scoped ticket list (page of 50 + capped count) of
a district supervisor, a street's staff and a community's, the street's triage
queue (p95 of ``BENCH_LIST_REPEAT`` runs each, with the page query's plan), the
periodic jobs (escalation run twice with its time and peak memory, reminders,
未评价) and ``ticket_create`` (rate and statements). Prints one JSON object.

    .venv/bin/python bench/bench_tickets.py                 # builds once, measures
    BENCH_TICKETS=100000 BENCH_OVERDUE_SHARE=0.32 .venv/bin/python bench/bench_tickets.py

The first ``BENCH_BASE_TICKETS`` (100,000) tickets are made in Python the way
the services make them and loaded with COPY; the rest are copies of them made
in SQL (``INSERT … SELECT … generate_series``), each copy moved to other grids.

The data are anchored at a fixed instant (``BENCH_NOW``, a Wednesday 15:00 in
Beijing, when the reminders of today's 17:30 deadlines are due) and every job gets
that instant as ``now``, so a rerun measures the same work. The jobs run inside a
transaction the bench rolls back, so the data stay as built; the SAVEPOINT
statements that nesting adds are not counted.
"""

import datetime as dt
import io
import json
import os
import random
import re
import statistics
import sys
import time

os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gridwork_bench_tickets"
)
os.environ.setdefault("BENCH_DISTRICTS", "10")

TICKETS = int(os.environ.get("BENCH_TICKETS", 2_000_000))
OVERDUE_SHARE = min(0.4, float(os.environ.get("BENCH_OVERDUE_SHARE", 0.01)))
BASE_TICKETS = min(TICKETS, int(os.environ.get("BENCH_BASE_TICKETS", 100_000)))
LIST_REPEAT = int(os.environ.get("BENCH_LIST_REPEAT", 20))
CREATE_COUNT = int(os.environ.get("BENCH_CREATE_COUNT", 500))
NOW_ISO = os.environ.get("BENCH_NOW", "2026-11-18T15:00:00+08:00")
COPY_CHUNK = 50_000

# Share of the tickets in each stage: most are closed, a fifth still escalate
# (more when the overdue share asks for it: ``stage_mix``).
STAGE_MIX = (
    ("received", 0.02),
    ("triaged", 0.01),
    ("dispatched", 0.04),
    ("accepted", 0.13),
    ("handled", 0.07),
    ("evaluated", 0.03),
    ("merged", 0.02),
    ("closed", 0.68),
)
# Handled tickets whose 3-day wait for the resident's verdict is over (未评价).
HANDLED_PAST_WAIT_SHARE = 0.3
# Open tickets escalated before, for an earlier deadline (must not escalate now).
EARLIER_ESCALATION_SHARE = 0.03
DEPARTMENT_SHARE = 0.15
SOURCES = (
    ("hotline", 0.45),
    ("patrol", 0.35),
    ("letter_visit", 0.05),
    ("petition", 0.05),
    ("department", 0.05),
    ("self_report", 0.05),
)
BENCH_DEPARTMENT = "Bench 城管执法"
BENCH_CATEGORIES = (
    ("Bench 简易纠纷", "easy"),
    ("Bench 一般纠纷", "general"),
    ("Bench 疑难复杂", "hard"),
)
DEPARTMENT_MEMBERS = 5
EVALUATED_VERDICTS = ("satisfied", "satisfied", "ordinary", "dissatisfied")
CLOSED_VERDICTS = (*EVALUATED_VERDICTS, "satisfied", "unevaluated")


ESCALATING = ("received", "triaged", "dispatched", "accepted")
# At most this share of an escalating stage's tickets is overdue.
MAX_OVERDUE_IN_ESCALATING = 0.8


def stage_mix() -> tuple[tuple[str, float], ...]:
    """``STAGE_MIX``, with the escalating stages grown (and the closed tickets
    shrunk) when ``OVERDUE_SHARE`` needs more than 80 % of them overdue."""
    escalating = sum(share for stage, share in STAGE_MIX if stage in ESCALATING)
    needed = OVERDUE_SHARE / MAX_OVERDUE_IN_ESCALATING
    if needed <= escalating:
        return STAGE_MIX
    factor = needed / escalating
    grown = sum(
        share * (factor - 1) for stage, share in STAGE_MIX if stage in ESCALATING
    )
    return tuple(
        (
            stage,
            share * factor
            if stage in ESCALATING
            else share - grown
            if stage == "closed"
            else share,
        )
        for stage, share in STAGE_MIX
    )


def _fingerprint() -> str:
    # ``copy-major``: the copies' layout (``copy_tickets``); data built with
    # the older layout are rebuilt.
    return f"bench:{TICKETS}:{OVERDUE_SHARE}:{BASE_TICKETS}:copy-major"


def _now() -> dt.datetime:
    return dt.datetime.fromisoformat(NOW_ISO)


# --- the tree, the catalogue and the accounts -------------------------------


def _tree() -> dict:
    """Grids with their community, street and district ids; the node parents."""
    from grids.models import Region

    rows = list(Region.objects.values_list("pk", "parent_id", "level"))
    parent = {pk: parent_id for pk, parent_id, _level in rows}
    grids = []
    for pk, parent_id, level in rows:
        if level == "grid":
            community = parent_id
            street = parent[community]
            grids.append((pk, community, street, parent[street]))
    grids.sort()
    by_level = {}
    for pk, _parent_id, level in rows:
        by_level.setdefault(level, []).append(pk)
    return {"grids": grids, "parent": parent, "levels": by_level}


def _user_specs(tree: dict) -> list[tuple[str, str, int | None]]:
    """(username, role, region id) of every bench account."""
    levels = tree["levels"]
    specs = [(f"bench-sup-{pk}", "supervisor", pk) for pk in levels["district"]]
    for pk in levels["street"]:
        specs.append((f"bench-sup-{pk}", "supervisor", pk))
        specs.append((f"bench-street-{pk}", "street_staff", pk))
    specs += [(f"bench-comm-{pk}", "community_staff", pk) for pk in levels["community"]]
    specs += [(f"bench-grid-{pk}", "grid_worker", pk) for pk in levels["grid"]]
    specs += [
        (f"bench-dept-{k}", "grid_worker", None) for k in range(DEPARTMENT_MEMBERS)
    ]
    return specs


def _ticket_tables():
    from grids.models import Notification
    from tickets.models import (
        Ticket,
        TicketAssessment,
        TicketEvaluation,
        TicketEvent,
        TicketPhoto,
        UsedEvaluationToken,
    )

    models = (
        TicketPhoto,
        TicketEvent,
        TicketEvaluation,
        TicketAssessment,
        UsedEvaluationToken,
        Ticket,
        Notification,
    )
    return ", ".join(m._meta.db_table for m in models)


def _clear_tickets():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {_ticket_tables()} RESTART IDENTITY CASCADE")


def build_accounts(tree: dict) -> dict:
    """The catalogue and the accounts, once. Returns the ids the tickets use."""
    from grids.models import User
    from tickets.models import Category, Department

    department, _created = Department.objects.get_or_create(name=BENCH_DEPARTMENT)
    categories = []
    for name, deadline_class in BENCH_CATEGORIES:
        category = Category.objects.filter(parent=None, name=name).first()
        if category is None:
            category = Category.objects.create(name=name, deadline_class=deadline_class)
        categories.append((category.pk, deadline_class))
    specs = _user_specs(tree)
    if User.objects.filter(username__startswith="bench-").count() != len(specs):
        User.objects.filter(username__startswith="bench-").delete()
        User.objects.bulk_create(
            [
                User(username=name, role=role, region_id=region_id, password="!")
                for name, role, region_id in specs
            ],
            batch_size=5000,
        )
        members = User.objects.filter(username__startswith="bench-dept-")
        department.members.set(members)
    ids = dict(
        User.objects.filter(username__startswith="bench-").values_list("username", "pk")
    )
    return {
        "department": department.pk,
        "categories": categories,
        "users": ids,
        "department_members": [
            ids[f"bench-dept-{k}"] for k in range(DEPARTMENT_MEMBERS)
        ],
    }


# --- the tickets -------------------------------------------------------------


class Deadlines:
    """``set_deadline`` of the services, cached by (local start date, days): the
    deadline depends on nothing else (see ``tickets.workcalendar``)."""

    def __init__(self):
        from tickets.services.common import reminder_hours
        from tickets.workcalendar import WorkCalendar

        self.calendar = WorkCalendar()
        self.hours = reminder_hours()
        self.cache = {}

    def fields(self, start: dt.datetime, days: int) -> dict:
        from django.utils import timezone

        from tickets.workcalendar import add_working_days, working_hours_before

        key = (timezone.localtime(start).date(), days)
        if key not in self.cache:
            deadline = add_working_days(start, days, calendar=self.calendar)
            self.cache[key] = (
                deadline.at,
                deadline.provisional,
                working_hours_before(deadline.at, self.hours, calendar=self.calendar),
            )
        at, provisional, remind_at = self.cache[key]
        return {
            "stage_deadline": at,
            "deadline_provisional": provisional,
            "deadline_basis_at": start,
            "deadline_working_days": days,
            "remind_at": remind_at,
        }


def _pick(rng, mix):
    x = rng.random()
    for value, share in mix:
        x -= share
        if x < 0:
            return value
    return mix[-1][0]


def _hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)


def _open_ticket(row, stage, rng, *, deadlines, overdue, now, handling_days):
    """Stage fields of a ticket still in an escalating stage or 待评单, set the
    way the services set them (``ticket_create`` … ``ticket_handle``)."""
    from tickets.choices import ACCEPT_WORKING_DAYS, TRIAGE_WORKING_DAYS

    days = {
        "received": TRIAGE_WORKING_DAYS,
        "triaged": TRIAGE_WORKING_DAYS,  # the 制单+派单 clock keeps running
        "dispatched": ACCEPT_WORKING_DAYS,
        "accepted": handling_days,
        "handled": 3,  # TICKETS_EVALUATION_WORKING_DAYS
    }[stage]
    if overdue:
        entered = now - dt.timedelta(days=days * 1.5 + 2 + rng.uniform(0, 10))
        fields = deadlines.fields(entered, days)
        while fields["stage_deadline"] >= now:
            entered -= dt.timedelta(days=3)
            fields = deadlines.fields(entered, days)
    else:
        entered = now - _hours(rng.uniform(0, 24 * days * 1.4))
        fields = deadlines.fields(entered, days)
        if fields["stage_deadline"] <= now:
            entered = now - _hours(rng.uniform(0, 6))
            fields = deadlines.fields(entered, days)
    row.update(fields, stage_entered_at=entered)
    row["received_at"] = entered
    if stage in ("dispatched", "accepted", "handled"):
        row["received_at"] = entered - _hours(rng.uniform(2, 24 * (days + 2)))
    return row


def ticket_rows(tree: dict, accounts: dict, count: int):
    """Yield one dict of column values per ticket (ids 1..count)."""
    from django.utils import timezone

    from tickets.choices import (
        HANDLING_WORKING_DAYS,
        HOTLINE_HANDLING_WORKING_DAYS,
    )
    from tickets.models import Ticket

    now = _now()
    rng = random.Random(20261118)
    deadlines = Deadlines()
    users = accounts["users"]
    parent = tree["parent"]
    grids = tree["grids"]
    escalating = set(ESCALATING)
    mix = stage_mix()
    escalating_share = sum(share for stage, share in mix if stage in escalating)
    overdue_in_escalating = min(1.0, OVERDUE_SHARE / escalating_share)
    defaults = {
        f.attname: f.get_default() for f in Ticket._meta.concrete_fields if f.attname
    }
    defaults["updated_at"] = now
    for pk in range(1, count + 1):
        grid, community, street, district = grids[rng.randrange(len(grids))]
        stage = _pick(rng, mix)
        source = _pick(rng, SOURCES)
        category_id, deadline_class = rng.choice(accounts["categories"])
        street_staff = users[f"bench-street-{street}"]
        row = dict(defaults)
        row.update(
            id=pk,
            number=f"{now:%Y}-{pk:07d}",
            source=source,
            hotline_number=f"BENCH{pk:09d}" if source == "hotline" else None,
            stage=stage,
            category_id=category_id,
            deadline_class_id=deadline_class,
            region_id=grid,
            address=f"{grid}号楼{pk % 30}单元",
            reporter_name="张三",
            reporter_phone=f"138{pk % 100_000_000:08d}",
            description=f"工单{pk}: 小区门口占道经营, 影响通行",
            created_by_id=street_staff,
            responsible_leader_id=street_staff,
            holder_region_id=street,
            # The scope columns (``tickets.places``); a handling community
            # holds the place, so the unit's stay empty.
            place_district_id=district,
            place_street_id=street,
            place_community_id=community,
            place_grid_id=grid,
        )
        if stage == "received" and rng.random() < 0.5:
            row.update(category_id=None, responsible_leader_id=None)
        by_department = rng.random() < DEPARTMENT_SHARE
        if stage in ("dispatched", "accepted", "handled", "evaluated", "closed"):
            if by_department:
                # A shared department (no region): held at the ticket's street.
                row["handling_department_id"] = accounts["department"]
                row["instructions"] = "请城管执法队处理"
            else:
                row["handling_region_id"] = community
                row["holder_region_id"] = community
                row["instructions"] = "请社区尽快处理"
        if stage in ("accepted", "handled", "evaluated", "closed"):
            row["handler_id"] = (
                rng.choice(accounts["department_members"])
                if by_department
                else users[f"bench-grid-{grid}"]
            )
        if stage in ("handled", "evaluated", "closed"):
            row.update(cause="摊贩", measures="劝离", result="已清理")
        handling_days = (
            HOTLINE_HANDLING_WORKING_DAYS
            if source == "hotline"
            else HANDLING_WORKING_DAYS[deadline_class]
        )
        if stage in escalating or stage == "handled":
            overdue = rng.random() < (
                HANDLED_PAST_WAIT_SHARE if stage == "handled" else overdue_in_escalating
            )
            _open_ticket(
                row,
                stage,
                rng,
                deadlines=deadlines,
                overdue=overdue,
                now=now,
                handling_days=handling_days,
            )
            earlier = rng.random() < EARLIER_ESCALATION_SHARE
            if stage in escalating and not overdue and earlier:
                row.update(
                    escalation_level=1,
                    escalated_for_deadline=row["stage_deadline"] - dt.timedelta(days=2),
                    escalated_to_id=parent[row["holder_region_id"]],
                )
        else:
            # Evaluated, closed or merged: no deadline (``move(working_days=None)``).
            received = now - dt.timedelta(days=rng.uniform(1, 730))
            entered = received + dt.timedelta(days=rng.uniform(0.2, 20))
            entered = min(entered, now - _hours(1))
            row.update(received_at=received, stage_entered_at=entered)
            if stage == "evaluated":
                row["verdict"] = rng.choice(EVALUATED_VERDICTS)
            elif stage == "closed":
                row.update(
                    verdict=rng.choice(CLOSED_VERDICTS),
                    closed_at=entered,
                )
                if rng.random() < 0.08:
                    escalated = parent.get(row["holder_region_id"])
                    row.update(
                        escalation_level=1,
                        escalated_to_id=escalated or row["holder_region_id"],
                        escalated_for_deadline=received + dt.timedelta(days=1),
                    )
            else:  # merged into an earlier ticket, before triage finished
                row.update(
                    merged_into_id=rng.randrange(1, pk) if pk > 1 else None,
                    closed_at=entered,
                )
        row["received_at"] = timezone.localtime(row["received_at"])
        yield row


def _copy_text(value) -> str:
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str):
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return str(value)


def build_tickets(tree: dict, accounts: dict) -> float | None:
    """Insert the tickets once with COPY, in chunks; None if already there."""
    from django.db import connection, transaction

    from tickets.models import Ticket

    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description('tickets_ticket'::regclass)")
        (built,) = cursor.fetchone()
    if built == _fingerprint() and Ticket.objects.count() >= TICKETS:
        return None
    started = time.perf_counter()
    _clear_tickets()
    fields = list(Ticket._meta.concrete_fields)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    attnames = [f.attname for f in fields]
    sql = f"COPY {Ticket._meta.db_table} ({columns}) FROM STDIN"
    buffer = io.StringIO()
    rows_in_buffer = 0
    with transaction.atomic(), connection.cursor() as cursor:
        # A bulk load: the secondary indexes are built once at the end, not
        # row by row (their definitions kept from the catalogue).
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i"
            " WHERE i.tablename = 'tickets_ticket' AND NOT EXISTS ("
            " SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        # Nor are the foreign keys checked row by row (20 million lookups at
        # commit for 2,000,000 tickets): the generator writes ids it read from
        # the tables. This database is the bench's own.
        cursor.execute("SET session_replication_role = replica")

        def flush():
            buffer.seek(0)
            cursor.copy_expert(sql, buffer)
            buffer.seek(0)
            buffer.truncate()

        for row in ticket_rows(tree, accounts, BASE_TICKETS):
            buffer.write("\t".join(_copy_text(row[name]) for name in attnames))
            buffer.write("\n")
            rows_in_buffer += 1
            if rows_in_buffer == COPY_CHUNK:
                flush()
                rows_in_buffer = 0
        if rows_in_buffer:
            flush()
        copy_tickets(cursor, tree, accounts, [(f.attname, f.column) for f in fields])
        cursor.execute("SET session_replication_role = DEFAULT")
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
            [Ticket._meta.db_table, TICKETS],
        )
        cursor.execute(f"COMMENT ON TABLE tickets_ticket IS '{_fingerprint()}'")
    return time.perf_counter() - started


def copy_tickets(
    cursor, tree: dict, accounts: dict, names: list[tuple[str, str]]
) -> None:
    """Tickets ``BASE_TICKETS + 1 …`` as copies of the first ``BASE_TICKETS``
    (one INSERT … SELECT per copy, in the base's order): copy k moves each ticket
    from grid i to grid (i + k · 7919) mod grids, with that grid's community,
    street, district, grid worker and street staff, new numbers and ids."""
    copies = -(-TICKETS // BASE_TICKETS) - 1
    if copies <= 0:
        return
    users = accounts["users"]
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_grid_map (idx int PRIMARY KEY, grid bigint,"
        " community bigint, street bigint, district bigint, worker bigint,"
        " street_staff bigint)"
    )
    rows = [
        (i, g, c, st, d, users[f"bench-grid-{g}"], users[f"bench-street-{st}"])
        for i, (g, c, st, d) in enumerate(tree["grids"])
    ]
    cursor.executemany(
        "INSERT INTO bench_grid_map VALUES (%s, %s, %s, %s, %s, %s, %s)", rows
    )
    cursor.execute("CREATE INDEX ON bench_grid_map (grid)")
    count = len(rows)
    moved = {
        "id": "t.id + k * %(base)s",
        "number": "to_char(%(now)s::timestamptz, 'YYYY') || '-' || lpad((t.id + k * %(base)s)::text, 7, '0')",
        "hotline_number": "CASE WHEN t.hotline_number IS NULL THEN NULL ELSE 'BENCH' || lpad((t.id + k * %(base)s)::text, 9, '0') END",
        "region_id": "n.grid",
        "place_district_id": "n.district",
        "place_street_id": "n.street",
        "place_community_id": "n.community",
        "place_grid_id": "n.grid",
        "handling_region_id": "CASE WHEN t.handling_region_id IS NULL THEN NULL ELSE n.community END",
        "holder_region_id": "CASE WHEN t.holder_region_id = o.community THEN n.community ELSE n.street END",
        "escalated_to_id": "CASE WHEN t.escalated_to_id IS NULL THEN NULL WHEN t.escalated_to_id = o.street THEN n.street WHEN t.escalated_to_id = o.community THEN n.community ELSE n.district END",
        "handler_id": "CASE WHEN t.handler_id = o.worker THEN n.worker ELSE t.handler_id END",
        "created_by_id": "n.street_staff",
        "responsible_leader_id": "CASE WHEN t.responsible_leader_id IS NULL THEN NULL ELSE n.street_staff END",
        "merged_into_id": "t.merged_into_id + k * %(base)s",
    }
    columns = ", ".join(f'"{column}"' for _name, column in names)
    values = ", ".join(moved.get(name, f't."{column}"') for name, column in names)
    values = values.replace("k * ", "copy.k * ")
    # One copy at a time, each in the base's order: copy k is a block laid
    # out like the base (the overdue tickets where they fall, ~1 a page). A
    # single INSERT over generate_series put the copies of each base ticket
    # next to each other, so an overdue ticket's copies filled whole pages:
    # a layout no intake makes, and the worst case for escalation's HOT
    # updates (a page has room for ~6 new versions; docs/scaling.md).
    for k in range(1, copies + 1):
        cursor.execute(
            f"INSERT INTO tickets_ticket ({columns}) SELECT {values}"
            " FROM tickets_ticket t CROSS JOIN (SELECT %(k)s AS k) AS copy"
            " JOIN bench_grid_map o ON o.grid = t.region_id"
            " JOIN bench_grid_map n ON n.idx = (o.idx + copy.k * 7919) %% %(grids)s"
            " WHERE t.id <= %(base)s AND t.id + copy.k * %(base)s <= %(tickets)s"
            " ORDER BY t.id",
            {
                "base": BASE_TICKETS,
                "k": k,
                "grids": count,
                "tickets": TICKETS,
                "now": _now(),
            },
        )
    cursor.execute("DROP TABLE bench_grid_map")


def build() -> dict:
    """The tree (from ``bench_grids``), the catalogue, the accounts and the
    tickets, each only if missing."""
    import bench_grids
    from django.db import connection

    from grids.models import Region, User
    from tickets.models import Department

    expected = bench_grids.DISTRICTS * bench_grids.STREETS
    expected *= bench_grids.COMMUNITIES * bench_grids.GRIDS
    timings = {}
    if Region.objects.filter(level="grid").count() < expected:
        # Tickets, accounts and departments protect the old tree's nodes.
        _clear_tickets()
        User.objects.filter(region__isnull=False).delete()
        Department.objects.filter(region__isnull=False).delete()
        started = time.perf_counter()
        bench_grids.build_tree()
        timings["tree_seconds"] = round(time.perf_counter() - started, 1)
    tree = _tree()
    accounts = build_accounts(tree)
    tickets_seconds = build_tickets(tree, accounts)
    if tickets_seconds is not None:
        timings["tickets_seconds"] = round(tickets_seconds, 1)
    # The steady state autovacuum keeps: statistics and visibility map current
    # (the rolled-back runs of the jobs leave dead rows behind).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) tickets_ticket")
    return {"tree": tree, "accounts": accounts, "build": timings}


# --- measuring ---------------------------------------------------------------

SAVEPOINT_SQL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def _statements(captured) -> list[str]:
    return [
        q["sql"] for q in captured if not q["sql"].lstrip().startswith(SAVEPOINT_SQL)
    ]


def run_job(fn, **kwargs) -> tuple[dict, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = fn(**kwargs)
        seconds = time.perf_counter() - started
    kept = [
        q
        for q in captured.captured_queries
        if not q["sql"].lstrip().startswith(SAVEPOINT_SQL)
    ]
    return (
        {
            "result": result,
            "seconds": round(seconds, 3),
            "queries": len(kept),
            # Where the time goes: each statement's first words and seconds.
            "statement_seconds": [
                [" ".join(q["sql"].split()[:3])[:40], float(q["time"])] for q in kept
            ],
        },
        [q["sql"] for q in kept],
    )


def explain(sql: str, params=None) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) in short: time, rows, and how the tickets
    table was read (index or sequential scan)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()[0]
    scans, filtered = [], 0

    def walk(node):
        nonlocal filtered
        kind = node["Node Type"]
        if ("Scan" in kind and "Relation Name" in node) or "Index Name" in node:
            target = node.get("Index Name") or node.get("Relation Name")
            scans.append(f"{kind} {target}")
        filtered += node.get("Rows Removed by Filter", 0)
        filtered += node.get("Rows Removed by Index Recheck", 0)
        for child in node.get("Plans", ()):
            walk(child)

    top = plan["Plan"]
    walk(top)
    return {
        "execution_ms": round(plan["Execution Time"], 1),
        "planning_ms": round(plan["Planning Time"], 1),
        "rows": top["Actual Rows"],
        "scans": scans,
        "rows_removed_by_filter": filtered,
        "shared_buffers_hit": top.get("Shared Hit Blocks", 0),
        "shared_buffers_read": top.get("Shared Read Blocks", 0),
    }


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux: ru_maxrss in KB)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _updates_in_transaction() -> tuple[int, int]:
    """(rows updated, of them HOT) in the ticket table in this transaction."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated('tickets_ticket'::regclass),"
            " pg_stat_get_xact_tuples_hot_updated('tickets_ticket'::regclass)"
        )
        return cursor.fetchone()


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS; False where the
    kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _hwm_rss_mb() -> float:
    """This process's peak RSS since the last reset (VmHWM), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return _peak_rss_mb()


def _current_rss_mb() -> float:
    """This process's resident memory now, in MB (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def _first_select(statements: list[str]) -> str:
    """The first SELECT (a job's candidate ids come through a server-side
    cursor: ``DECLARE … CURSOR … FOR SELECT``)."""
    for statement in statements:
        statement = re.sub(r"^\s*DECLARE .*? CURSOR .*? FOR ", "", statement)
        if statement.lstrip().upper().startswith("SELECT"):
            return statement
    raise ValueError("no SELECT")


def measure_jobs(now: dt.datetime) -> dict:
    """The periodic jobs, each run twice (the second run must find nothing),
    inside one transaction rolled back at the end."""
    from django.db import transaction

    from tickets.choices import ESCALATING_STAGES
    from tickets.models import Ticket
    from tickets.services import (
        escalation,
        tickets_escalate_overdue,
        tickets_mark_unevaluated,
        tickets_send_reminders,
    )
    from tickets.services.batches import batch_size, due_ids
    from tickets.services.escalation import (
        _due_for_escalation,
        tickets_escalate_overdue_run,
    )

    results = {}
    with transaction.atomic():
        results["overdue_in_escalating_stages"] = Ticket.objects.filter(
            stage__in=ESCALATING_STAGES, stage_deadline__lt=now
        ).count()
        # The run's one unlocked read of the due ids, then the first batch's lock.
        candidates = _due_for_escalation(now).order_by().values_list("pk", flat=True)
        sql, params = candidates.query.get_compiler(using=candidates.db).as_sql()
        first_batch = next(due_ids(_due_for_escalation(now), batch_size()), [])
        lock = (
            _due_for_escalation(now)
            .filter(pk__in=first_batch)
            .order_by("pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values("pk")
        )
        lock_sql, lock_params = lock.query.get_compiler(using=lock.db).as_sql()
        plan_batch = explain(lock_sql, lock_params)
        plan_before = explain(sql, params)
        # How long one batch's work holds its rows (after its SELECT … FOR UPDATE).
        batch_seconds = []
        escalate_batch = escalation._escalate_batch

        def timed_batch(*args):
            started = time.perf_counter()
            try:
                return escalate_batch(*args)
            finally:
                batch_seconds.append(time.perf_counter() - started)

        escalation._escalate_batch = timed_batch
        updates_before = _updates_in_transaction()
        rss_before = _peak_rss_mb()
        current_before = _current_rss_mb()
        run_peak_known = _reset_peak_rss()
        try:
            first, _statements_run = run_job(tickets_escalate_overdue_run, now=now)
        finally:
            escalation._escalate_batch = escalate_batch
        run_peak = _hwm_rss_mb() if run_peak_known else None
        escalated, run = first["result"]
        first["result"] = escalated
        updated, hot = (
            after - before
            for after, before in zip(
                _updates_in_transaction(), updates_before, strict=True
            )
        )
        second, statements = run_job(tickets_escalate_overdue, now=now)
        results["escalate_overdue"] = {
            "first_run": first,
            "second_run": second,
            "batch_size": batch_size(),
            "batches": run.batches,
            # Row updates of the ticket table, and how many were HOT (no index
            # entry written): escalation writes no indexed column.
            "ticket_rows_updated": updated,
            "ticket_rows_hot_updated": hot,
            "longest_batch_seconds": round(max(batch_seconds, default=0), 3),
            "digest_recipients": len(run.digest_for),
            "rss_mb_before": current_before,
            "peak_rss_mb_before": rss_before,
            "peak_rss_mb_after": _peak_rss_mb(),
            # The process's peak resident memory during the run itself (the
            # kernel's high-water mark, reset before it: /proc/self/clear_refs).
            "run_peak_rss_mb": run_peak,
            "candidate_query_plan_first_run": plan_before,
            "first_batch_lock_plan": plan_batch,
            "candidate_query_plan_second_run": explain(_first_select(statements)),
        }
        for name, job in (
            ("send_reminders", tickets_send_reminders),
            ("mark_unevaluated", tickets_mark_unevaluated),
        ):
            first, statements = run_job(job, now=now)
            candidate = _first_select(statements)
            second, _statements_run = run_job(job, now=now)
            results[name] = {
                "first_run": first,
                "second_run": second,
                "candidate_query_plan_second_run": explain(candidate),
            }
        transaction.set_rollback(True)
    return results


def measure_escalation_in_worker() -> dict:
    """Escalation's peak memory as a Celery worker would have it: a fresh process
    (Django and every app loaded, none of this bench's build in memory) runs the
    pass at ``BENCH_NOW`` in a transaction rolled back, and reports its own peak
    RSS (VmHWM) before and after the pass."""
    import subprocess

    process = subprocess.run(
        [sys.executable, __file__, "--escalation-worker"],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    )
    return json.loads(process.stdout.strip().splitlines()[-1])


def escalation_worker() -> None:
    """The child of ``measure_escalation_in_worker``."""
    from _setup import setup

    setup()
    from django.conf import settings
    from django.db import transaction

    from tickets.services.escalation import tickets_escalate_overdue_run

    settings.DEBUG = False
    before = _hwm_rss_mb()
    started = time.perf_counter()
    with transaction.atomic():
        escalated, _run = tickets_escalate_overdue_run(now=_now())
        transaction.set_rollback(True)
    print(
        json.dumps(
            {
                "escalated": escalated,
                "seconds": round(time.perf_counter() - started, 3),
                "process_peak_rss_mb_before_run": before,
                "process_peak_rss_mb": _hwm_rss_mb(),
            }
        )
    )


def measure_locks_during_escalation(now: dt.datetime) -> dict:
    """Opt-in (``BENCH_CONCURRENT_LOCKS=1``): escalation for real, committed batch
    by batch in a thread, while this thread, as a web request would (web lock
    timeout), takes the row lock a 接单 takes on overdue tickets all over the
    backlog, each in a transaction rolled back. Reports how long those locks
    waited. The escalation is committed, so the tickets are cleared afterwards
    and the next run builds them again."""
    import threading

    from django.db import connection, transaction

    from grids.db import RecordBusy, apply_web_timeouts
    from tickets.services.common import lock_ticket
    from tickets.services.escalation import (
        _due_for_escalation,
        tickets_escalate_overdue_run,
    )

    due = list(_due_for_escalation(now).values_list("pk", flat=True))
    sample = random.Random(7).sample(due, min(len(due), 2000))
    outcome = {}

    def escalate():
        try:
            started = time.perf_counter()
            escalated, run = tickets_escalate_overdue_run(now=now)
            outcome.update(
                escalated=escalated,
                batches=run.batches,
                seconds=round(time.perf_counter() - started, 2),
            )
        finally:
            connection.close()

    worker = threading.Thread(target=escalate)
    apply_web_timeouts()
    waits, busy = [], 0
    worker.start()
    for pk in sample:
        if not worker.is_alive():
            break
        started = time.perf_counter()
        try:
            with transaction.atomic():
                lock_ticket(pk)
                transaction.set_rollback(True)
        except RecordBusy:
            busy += 1
        waits.append(time.perf_counter() - started)
    worker.join()
    connection.close()  # drop the web timeouts
    _clear_tickets()
    waits.sort()
    return {
        **outcome,
        "locks_taken_while_running": len(waits),
        "busy": busy,
        "median_wait_ms": round(statistics.median(waits) * 1000, 1) if waits else None,
        "max_wait_ms": round(waits[-1] * 1000, 1) if waits else None,
    }


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _page_statement(statements: list[str]) -> str:
    """The page's own query, by its shape: rows of the ticket table, ordered and
    limited (not the small reads before it, which may have a LIMIT too)."""
    return next(
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT")
        and 'FROM "tickets_ticket"' in s
        and "ORDER BY" in s
        and "LIMIT" in s
        and not s.lstrip().upper().startswith("SELECT COUNT(")
    )


def measure_page(queryset_for, repeat: int = LIST_REPEAT) -> dict:
    """A list as the admin pages it: the first page of 50 and the capped count
    (``tickets.pagination``), ``repeat`` times; p95 and median, statements and
    the plans of the page query and the count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tickets.pagination import CappedPaginator

    def first_page():
        paginator = CappedPaginator(queryset_for(), 50)
        page = paginator.page(1)
        return len(list(page.object_list)), str(paginator.capped_count)

    samples = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            rows, count = first_page()
            samples.append(time.perf_counter() - started)
    statements = _statements(captured.captured_queries)
    count_sql = next(s for s in statements if s.upper().startswith("SELECT COUNT("))
    return {
        "p95_ms": round(_p95(samples) * 1000, 1),
        "median_ms": round(statistics.median(samples) * 1000, 1),
        "runs": repeat,
        "queries": len(statements),
        "rows": rows,
        "count": count,
        "page_plan": explain(_page_statement(statements)),
        "count_plan": explain(count_sql),
    }


def measure_list(actor) -> dict:
    from tickets.selectors import ticket_list

    return measure_page(lambda: ticket_list(actor=actor))


def measure_triage_queue(actor) -> dict:
    """The admin's triage queue (待制单/待派单), oldest deadline first."""
    from tickets.choices import Stage
    from tickets.models import Ticket

    return measure_page(
        lambda: (
            Ticket.objects.visible_to(actor)
            .filter(stage__in=[Stage.RECEIVED, Stage.TRIAGED])
            .order_by("stage_deadline", "pk")
        )
    )


def measure_intake(actor, region) -> dict:
    """``ticket_create`` ``CREATE_COUNT`` times, each committed, in the grid of
    the street's staff; statements of one call (the calendar and the region's
    path read by a first call). The tickets made are removed afterwards (the
    event log's trigger set aside for that in this bench database only)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tickets.services import ticket_create

    def create(n):
        return ticket_create(
            actor=actor,
            source="hotline",
            hotline_number=f"BENCH-INTAKE-{n}",
            region=region,
            description="小区门口占道经营, 影响通行",
            reporter_name="张三",
            reporter_phone="13800001111",
        )

    made = [create(0).pk]
    with CaptureQueriesContext(connection) as captured:
        made.append(create(1).pk)
    # BEGIN and COMMIT are the transaction's own (Django logs them): apart.
    logged = _statements(captured.captured_queries)
    statements = [s for s in logged if s.strip().upper() not in ("BEGIN", "COMMIT")]
    started = time.perf_counter()
    for n in range(2, CREATE_COUNT + 2):
        made.append(create(n).pk)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "DELETE FROM tickets_ticketevent WHERE ticket_id = ANY(%s)", [made]
        )
        cursor.execute("DELETE FROM tickets_ticket WHERE id = ANY(%s)", [made])
        cursor.execute("SET session_replication_role = DEFAULT")
    return {
        "created": CREATE_COUNT,
        "per_second": round(CREATE_COUNT / seconds, 1),
        "median_ms": round(seconds / CREATE_COUNT * 1000, 2),
        "statements": len(statements),
        "transaction_statements": len(logged) - len(statements),
        "statement_heads": [" ".join(s.split()[:4])[:60] for s in statements],
    }


def main():
    from _setup import setup

    setup()
    from django.conf import settings
    from django.db.models import Count

    from grids.models import Region, User
    from tickets.models import Ticket

    settings.DEBUG = False  # no unbounded query log during the build
    built = build()
    levels = built["tree"]["levels"]
    street = sorted(levels["street"])[len(levels["street"]) // 2]
    district = sorted(levels["district"])[len(levels["district"]) // 2]
    street_user = User.objects.select_related("region").get(
        username=f"bench-street-{street}"
    )
    district_user = User.objects.select_related("region").get(
        username=f"bench-sup-{district}"
    )
    now = _now()
    results = {
        "tickets": Ticket.objects.count(),
        "overdue_share": OVERDUE_SHARE,
        "machine": {"cpus": os.cpu_count(), "note": os.environ.get("BENCH_NOTE", "")},
        "grids": Region.objects.filter(level="grid").count(),
        "districts": len(levels["district"]),
        "accounts": len(built["accounts"]["users"]),
        "now": now.isoformat(),
        "build_seconds": built["build"] or None,
        "stages": dict(
            Ticket.objects.order_by()
            .values_list("stage")
            .annotate(n=Count("pk"))
            .values_list("stage", "n")
        ),
    }
    community = sorted(levels["community"])[len(levels["community"]) // 2]
    community_user = User.objects.select_related("region").get(
        username=f"bench-comm-{community}"
    )
    results["district_supervisor_ticket_list"] = measure_list(district_user)
    results["street_ticket_list"] = measure_list(street_user)
    results["street_triage_queue"] = measure_triage_queue(street_user)
    results["community_ticket_list"] = measure_list(community_user)
    grid = Region.objects.filter(level="grid", parent__parent=street).first()
    results["ticket_create"] = measure_intake(street_user, grid)
    results.update(measure_jobs(now))
    results["escalation_in_worker"] = measure_escalation_in_worker()
    if os.environ.get("BENCH_CONCURRENT_LOCKS") == "1":
        results["locks_during_escalation"] = measure_locks_during_escalation(now)
    print(json.dumps(results, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    if sys.argv[1:] == ["--escalation-worker"]:
        escalation_worker()
    else:
        main()
