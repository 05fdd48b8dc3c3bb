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

from django.db import transaction
from django.db.models import QuerySet

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
