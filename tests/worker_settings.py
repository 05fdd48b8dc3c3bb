"""Settings of a Celery worker that a fault test starts: the project's own
settings, with the broker sweeping its unacknowledged tasks every second.

Kombu's Redis transport hands a dead worker's task back (once the visibility
timeout has passed) only when it sweeps: every ``unacked_restore_interval``
seconds, and then only every ``unacked_restore_throttle``-th sweep, 10 × 10 s by
default. A test that waits for a redelivery after a short visibility timeout
would otherwise wait up to 100 s for the sweep, not for the timeout.
"""

from governance.settings import *  # noqa: F403
from governance.settings import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
