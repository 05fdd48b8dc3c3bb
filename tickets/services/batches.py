"""Periodic jobs in short transactions: lock a bounded batch of the rows a job
must change, change them, commit, take the next batch.

A job over a backlog of 100,000 tickets must never hold all of them locked at
once (a 接单 on one of them would wait for the whole run). Each batch is its own
transaction: ``SELECT … WHERE <due> AND id > <last> ORDER BY id LIMIT n
FOR UPDATE SKIP LOCKED``, then the job's own statements (an UPDATE that repeats
``<due>``, the event rows, the notices). Keyset order by id means every batch
moves forward: a row skipped because a user holds it, or no longer due, is not
read again in this run (the next run finds it if it is still due).
"""

from collections.abc import Callable

from django.db import transaction
from django.db.models import QuerySet

from .common import setting

DEFAULT_BATCH_SIZE = 1000


def batch_size(size: int | None = None) -> int:
    """``size``, else ``TICKETS_ESCALATION_BATCH`` (1000); at least 1."""
    return max(1, int(size or setting("TICKETS_ESCALATION_BATCH", DEFAULT_BATCH_SIZE)))


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
    model's rows are locked). Returns (the sum of what ``step`` returned, batches run)."""
    size = batch_size(size)
    if "pk" not in fields:
        fields = ("pk", *fields)
    done = batches = after = 0
    while True:
        with transaction.atomic():
            rows = list(
                due()
                .filter(pk__gt=after)
                .order_by("pk")
                .select_for_update(skip_locked=True, of=("self",))
                .values(*fields)[:size]
            )
            if not rows:
                break
            done += step(due(), rows)
        batches += 1
        after = rows[-1]["pk"]
        if len(rows) < size:
            break
    return done, batches
