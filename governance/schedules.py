"""Every periodic job of the project, in one place.

Each app may declare ``PERIODIC_TASKS`` in its ``schedules`` module; this module
gathers them and ``manage.py setup_schedules`` writes them into
django-celery-beat's tables, where staff can change them afterwards.
"""

import importlib

SCHEDULE_APPS = ("grids", "partyorg", "points", "tickets", "governance")

# The governance package's own jobs (it is one of the SCHEDULE_APPS).
PERIODIC_TASKS = [
    {
        # 月评比: the A/B/C rating of the month that ended, on the 1st at 02:00.
        "name": "governance: rate grids (monthly A/B/C)",
        "task": "governance.tasks.rate_grids",
        "crontab": {"minute": "0", "hour": "2", "day_of_month": "1"},
    },
    {
        # The dashboard's monthly summary rows of the running and the last month.
        "name": "governance: refresh dashboard summaries",
        "task": "governance.tasks.dashboard_refresh",
        "crontab": {"minute": "17"},
    },
    {
        # 周通报: each street's weekly bulletin of the week that ended, to its
        # staff and supervisors, on Monday at 08:00 (once per street and week).
        "name": "governance: send the weekly bulletins",
        "task": "governance.tasks.weekly_bulletins_send",
        "crontab": {"minute": "0", "hour": "8", "day_of_week": "1"},
    },
    {
        # 以下评上: the residents' survey links of the current month or quarter,
        # on the 15th at 10:00 (once per household and period).
        "name": "governance: send the residents' survey links",
        "task": "governance.tasks.survey_send_links",
        "crontab": {"minute": "0", "hour": "10", "day_of_month": "15"},
    },
]


def all_periodic_tasks() -> list[dict]:
    tasks = []
    for app in SCHEDULE_APPS:
        try:
            module = importlib.import_module(f"{app}.schedules")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.schedules":
                raise
            continue
        tasks.extend(getattr(module, "PERIODIC_TASKS", []))
    names = [t["name"] for t in tasks]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"periodic task names declared twice: {sorted(duplicates)}")
    return tasks


def install_periodic_tasks(tasks=None) -> tuple[int, int]:
    """Create the beat rows that are missing; leave rows staff have edited alone.

    Returns (created, existing).
    """
    from django.db import transaction
    from django_celery_beat.models import (
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
    )

    created = existing = 0
    with transaction.atomic():
        for spec in tasks if tasks is not None else all_periodic_tasks():
            if PeriodicTask.objects.filter(name=spec["name"]).exists():
                existing += 1
                continue
            schedule = {}
            if "interval_seconds" in spec:
                schedule["interval"], _ = IntervalSchedule.objects.get_or_create(
                    every=spec["interval_seconds"], period=IntervalSchedule.SECONDS
                )
            elif "crontab" in spec:
                cron = {
                    "minute": "*",
                    "hour": "*",
                    "day_of_week": "*",
                    "day_of_month": "*",
                    "month_of_year": "*",
                    **spec["crontab"],
                }
                schedule["crontab"], _ = CrontabSchedule.objects.get_or_create(
                    timezone="Asia/Shanghai", **cron
                )
            else:
                raise ValueError(f"{spec['name']}: give interval_seconds or crontab")
            PeriodicTask.objects.create(
                name=spec["name"],
                task=spec["task"],
                description=spec.get("description", ""),
                kwargs=spec.get("kwargs", "{}"),
                **schedule,
            )
            created += 1
    return created, existing
