"""The Celery application; configuration comes from Django settings (CELERY_*).

Delivery is at least once (settings: acks late, rejected back to the queue when a
worker dies, one task per worker process at a time, a hard time limit below the
broker's visibility timeout): every periodic job is idempotent and commits in
short batches, so a task run again after a crash finishes the work without
doing any of it twice. Jobs run without the web requests' database timeouts.

The worker logs through ``settings.LOGGING`` only, whose every handler scrubs ID
numbers, phones and link tokens (governance.logging): it does not take over the
root logger (``CELERY_WORKER_HIJACK_ROOT_LOGGER = False``), and since a receiver
of ``setup_logging`` is connected it adds none of its own handlers either (by
default it gives ``celery.task`` a stderr handler that does not propagate, so
task logs would pass around the filter).
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("gridwork")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def log_through_django_settings(loglevel=None, **kwargs):
    """Configure logging from ``settings.LOGGING`` (as ``django.setup()`` does);
    Celery's own handler setup is skipped because this receiver exists. The
    command's ``--loglevel`` still sets how much Celery's own loggers say."""
    import logging

    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    if loglevel:
        logging.getLogger("celery").setLevel(loglevel)
