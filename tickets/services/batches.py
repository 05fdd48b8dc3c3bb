"""Periodic jobs in short transactions: lock a bounded batch of the rows a job
must change, change them, commit, take the next batch.

A job over a backlog of 100,000 tickets must never hold all of them locked at
once (a 接单 on one of them would wait for the whole run). The job first reads
the ids of the rows that are due, without locking them (one query, through the
job's own index), then works through them in id order, at most ``size`` at a
time, each batch its own transaction: ``SELECT … WHERE id IN (<batch>) AND <due>
FOR UPDATE SKIP LOCKED``, then the job's own statements (an UPDATE that repeats
``<due>``, the event rows, the notices). A row no longer due, or held by a user
at that moment, is skipped; the next run finds it if it is still due. (Paging
with ``id > last ORDER BY id LIMIT n`` instead makes PostgreSQL walk the primary
key over the whole table on every run, 1 s per run at 500,000 tickets with
nothing due; see bench/bench_tickets.py.)
"""

from array import array
from collections.abc import Callable

from django.db import transaction
from django.db.models import QuerySet

from .common import setting

DEFAULT_BATCH_SIZE = 500


def batch_size(size: int | None = None) -> int:
    """``size``, else ``TICKETS_ESCALATION_BATCH`` (500); at least 1."""
    return max(1, int(size or setting("TICKETS_ESCALATION_BATCH", DEFAULT_BATCH_SIZE)))


def due_ids(due: QuerySet) -> array:
    """The ids of the rows due now, sorted, 8 bytes each (no lock taken)."""
    return array("q", sorted(due.order_by().values_list("pk", flat=True)))


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
    candidates = due_ids(due())
    done = batches = 0
    for start in range(0, len(candidates), size):
        batch = candidates[start : start + size].tolist()
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
