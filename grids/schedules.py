"""Periodic jobs of the grids app (installed by ``manage.py setup_schedules``)."""

PERIODIC_TASKS = [
    {
        "name": "grids: recount households and population",
        "task": "grids.tasks.refresh_region_counts",
        "crontab": {"minute": "30", "hour": "2"},
        "description": "Nightly: households_count / population_count of every region.",
    },
]
