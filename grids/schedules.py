"""Periodic jobs of the grids app (installed by ``manage.py setup_schedules``)."""

PERIODIC_TASKS = [
    {
        "name": "grids: recount households and population",
        "task": "grids.tasks.refresh_region_counts",
        "crontab": {"minute": "30", "hour": "2"},
        "description": "Nightly: households_count / population_count of every region.",
    },
    {
        "name": "grids: purge old idempotency keys",
        "task": "grids.tasks.purge_idempotency_keys",
        "crontab": {"minute": "45", "hour": "3"},
        "description": "Nightly: forget phone form keys older than "
        "IDEMPOTENCY_KEY_TTL_HOURS.",
    },
]
