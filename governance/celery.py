"""The Celery application; configuration comes from Django settings (CELERY_*).

Delivery is at least once (settings: acks late, rejected back to the queue when a
worker dies, one task per worker process at a time, a hard time limit below the
broker's visibility timeout): every periodic job is idempotent and commits in
short batches, so a task run again after a crash finishes the work without
doing any of it twice. Jobs run without the web requests' database timeouts.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("gridwork")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
