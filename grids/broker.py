"""Sending a Celery task from a request without depending on the broker.

A page must work while Redis is down (SECURITY.md, "Faults"). So the work a
request starts is first recorded in the database as a row in a waiting state
(a ``DataJob`` in state queued, …), and only then announced to the broker with
``enqueue``: one attempt, no retries, no exception. When the broker cannot be
reached the row simply waits, and a periodic sweep announces it again once the
broker is back (``grids.services.data_jobs_requeue``). The task must therefore
be idempotent: it claims its row with a conditional update and does nothing
when the row is no longer waiting.

This is the only module of the project that talks to the broker outside the
periodic jobs (``tests/governance/test_faults.py`` checks it).
"""

import logging

from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue(task, *args) -> bool:
    """Send ``task(*args)`` once; False (logged) when the broker is unreachable."""
    try:
        task.apply_async(args=args, retry=False)
    except (OperationalError, OSError) as exc:
        logger.warning(
            "Broker unreachable (%s): %s%r waits for its periodic sweep",
            type(exc).__name__,
            task.name,
            args,
        )
        return False
    return True
