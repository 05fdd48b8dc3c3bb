"""Periodic jobs of the grids app (installed by ``manage.py setup_schedules``)."""

PERIODIC_TASKS = [
    {
        "name": "grids: recount households and population",
        "task": "grids.tasks.refresh_region_counts",
        "crontab": {"minute": "30", "hour": "2"},
        "description": "Nightly: households_count / population_count of every region.",
    },
    {
        "name": "grids: remove old import and export files",
        "task": "grids.tasks.data_jobs_cleanup",
        "crontab": {"minute": "15"},
        "description": "Hourly: files of import/export jobs past their retention; "
        "jobs a dead worker left running marked failed.",
    },
    {
        "name": "grids: announce import and export jobs again",
        "task": "grids.tasks.data_jobs_requeue",
        "crontab": {"minute": "*/5"},
        "description": "Every 5 minutes: jobs still queued after "
        "DATA_JOB_REQUEUE_MINUTES (their task was lost, e.g. Redis was down) are "
        "sent to the workers again.",
    },
    {
        "name": "grids: purge old idempotency keys",
        "task": "grids.tasks.purge_idempotency_keys",
        "crontab": {"minute": "45", "hour": "3"},
        "description": "Nightly: forget phone form keys older than "
        "IDEMPOTENCY_KEY_TTL_HOURS.",
    },
]
