"""Periodic jobs in short transactions: lock a bounded batch of the rows a job
must change, change them, commit, take the next batch.

A job over a backlog of 100,000 tickets must never hold all of them locked at
once (a 接单 on one of them would wait for the whole run), nor all of them in
memory. The job streams the ids of the rows that are due, without locking them
(one query through the job's own index, read through a server-side cursor
``size`` ids at a time: ``WITH HOLD`` outside a transaction, so it outlives the
batches' commits), and works through them at most ``size`` at a time, each
batch its own transaction: ``SELECT … WHERE id IN (<batch>) AND <due> ORDER BY
id FOR UPDATE SKIP LOCKED`` (locks in id order), then the job's own statements
(an UPDATE that repeats ``<due>``, the event rows, the notices). A row no longer
due, or held by a user at that moment, is skipped; the next run finds it if it
is still due. The job's memory is one batch, whatever the backlog
(tests/tickets/test_escalation_batches.py measures it). (Paging with ``id >
last ORDER BY id LIMIT n`` instead makes PostgreSQL walk the primary key over
the whole table on every run, 1 s per run at 500,000 tickets with nothing due;
see bench/bench_tickets.py.)
"""

from collections.abc import Callable, Iterator
from itertools import islice
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import QuerySet, Value
from django.db.models.sql import UpdateQuery

from .common import setting

DEFAULT_BATCH_SIZE = 500


def batch_size(size: int | None = None) -> int:
    """``size``, else ``TICKETS_ESCALATION_BATCH`` (500); at least 1."""
    return max(1, int(size or setting("TICKETS_ESCALATION_BATCH", DEFAULT_BATCH_SIZE)))


def due_ids(due: QuerySet, size: int) -> Iterator[list[int]]:
    """The ids of the rows due now, ``size`` at a time (no lock taken; no
    order asked, so the planner reads the job's index, not the primary key)."""
    ids = due.order_by().values_list("pk", flat=True).iterator(chunk_size=size)
    while batch := list(islice(ids, size)):
        yield sorted(batch)


def in_locked_batches(
    due: Callable[[], QuerySet],
    step: Callable[[QuerySet, list[dict]], int],
    *,
    fields: tuple[str, ...] = ("pk",),
    size: int | None = None,
) -> tuple[int, int]:
    """Run ``step(due(), rows)`` on each locked batch of ``due()`` (``rows``: the
    batch's ``fields`` as dicts, in id order), each in its own transaction.
    ``due`` is called again for every batch so that the step's UPDATE can repeat
    the condition. ``fields`` are the model's own columns (no joins: only the
    model's rows are locked). Returns (the sum of what ``step`` returned, batches
    run)."""
    size = batch_size(size)
    if "pk" not in fields:
        fields = ("pk", *fields)
    done = batches = 0
    for batch in due_ids(due(), size):
        with transaction.atomic():
            rows = list(
                due()
                .filter(pk__in=batch)
                .order_by("pk")
                .select_for_update(skip_locked=True, of=("self",))
                .values(*fields)
            )
            if not rows:
                continue
            done += step(due(), rows)
        batches += 1
    return done, batches


# --- A batch as set-based SQL -------------------------------------------------
# A job's batch changes its locked rows with one UPDATE (``changes``: the SET
# list as expressions) and writes a row per changed ticket into other tables
# (``inserts``: model -> column expressions over the ticket's row after the
# update), then reads a small summary of what it changed. On PostgreSQL all of
# it is one statement; the CTE named after the ticket table shadows the table in
# the statement's other parts, so the INSERT … SELECT and the summary compiled
# over ``tickets_ticket`` read the updated rows (UPDATE … RETURNING), not the
# snapshot from before the update:
#
#     WITH "tickets_ticket" AS (UPDATE "tickets_ticket" SET … WHERE id IN (…)
#                               AND <due> RETURNING "tickets_ticket".*),
#          insert_1 AS (INSERT INTO <table> (…) SELECT … FROM "tickets_ticket")
#     <summary SELECT … FROM "tickets_ticket">
#
# Elsewhere (SQLite: ``make run``) the same compiled pieces run one after the
# other: the UPDATE … RETURNING id, then each INSERT and the summary over those
# ids. No Python object is made per ticket on either.


def compiled(queryset: QuerySet) -> tuple[str, tuple]:
    """The queryset's SQL and parameters, not run."""
    return queryset.query.get_compiler(using=queryset.db).as_sql()


def compiled_update(queryset: QuerySet, changes: dict) -> tuple[str, tuple]:
    """``queryset.update(**changes)`` as SQL, not run (what ``update()`` runs)."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(changes)
    query.clear_select_clause()
    return query.get_compiler(using=queryset.db).as_sql()


def compiled_insert_select(
    model, values: dict, source: QuerySet, *, ignore_conflicts: bool = False
) -> tuple[str, tuple]:
    """``INSERT INTO <model> (…) SELECT …`` one row per row of ``source``:
    ``values`` maps the model's columns (attnames) to expressions over the
    source's rows; the columns not named take their default."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    unknown = set(values) - {field.attname for field in fields}
    if unknown:
        raise ValueError(f"not columns of {model._meta.db_table}: {unknown}")
    select = {
        f"c_{field.attname}": values.get(
            field.attname, Value(field.get_default(), output_field=field)
        )
        for field in fields
    }
    select_sql, params = compiled(source.order_by("pk").values(**select))
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) {select_sql}"
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    return sql, params


class Insert(NamedTuple):
    model: type
    values: Callable[[], dict]  # column -> expression over the updated ticket
    ignore_conflicts: bool = False


def update_batch(
    locked: QuerySet,
    changes: dict,
    inserts: tuple[Insert, ...] = (),
    summary: Callable[[QuerySet], QuerySet] | None = None,
) -> list[dict]:
    """UPDATE ``locked`` (the batch's locked rows, filtered again by the job's
    condition) with ``changes``, INSERT the ``inserts`` rows from the updated
    rows, and return ``summary(updated)``'s rows as dicts, or ``[{"count": n}]``
    without a summary. One statement on PostgreSQL (see above)."""
    model = locked.model
    update_sql, update_params = compiled_update(locked, changes)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            updated = model.objects.all()
            parts, params = [], list(update_params)
            for n, insert in enumerate(inserts, 1):
                sql, insert_params = compiled_insert_select(
                    insert.model,
                    insert.values(),
                    updated,
                    ignore_conflicts=insert.ignore_conflicts,
                )
                parts.append(f"insert_{n} AS ({sql})")
                params.extend(insert_params)
            table = connection.ops.quote_name(model._meta.db_table)
            if summary is None:
                summary_sql, summary_params = (
                    f"SELECT COUNT(*) AS count FROM {table}",
                    (),
                )
            else:
                summary_sql, summary_params = compiled(summary(updated))
            params.extend(summary_params)
            ctes = ", ".join([f"{table} AS ({update_sql} RETURNING {table}.*)", *parts])
            cursor.execute(f"WITH {ctes} {summary_sql}", params)
        else:
            pk = connection.ops.quote_name(model._meta.pk.column)
            cursor.execute(f"{update_sql} RETURNING {pk}", update_params)
            ids = [pk for (pk,) in cursor.fetchall()]
            if not ids:  # (an empty IN () does not compile)
                return [] if summary else [{"count": 0}]
            updated = model.objects.filter(pk__in=ids)
            for insert in inserts:
                cursor.execute(
                    *compiled_insert_select(
                        insert.model,
                        insert.values(),
                        updated,
                        ignore_conflicts=insert.ignore_conflicts,
                    )
                )
            if summary is None:
                return [{"count": len(ids)}]
            cursor.execute(*compiled(summary(updated)))
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
