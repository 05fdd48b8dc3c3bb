"""Periodic jobs of the partyorg app (installed into django-celery-beat by the
project's setup command)."""

PERIODIC_TASKS = [
    {
        # Daily at 08:30: unclaimed micro-wishes older than N days (idempotent).
        "name": "partyorg: notify stale micro-wishes",
        "task": "partyorg.tasks.notify_stale_wishes",
        "crontab": {"minute": "30", "hour": "8"},
    },
    {
        # Every 10 minutes: summonses not reported in time become absences
        # (one conditional UPDATE, idempotent).
        "name": "partyorg: mark whistle absences",
        "task": "partyorg.tasks.mark_whistle_absences",
        "crontab": {"minute": "*/10"},
    },
]
