"""Periodic jobs of the points app, installed into django-celery-beat."""

PERIODIC_TASKS = [
    {
        # 年末清零: communities that turned expiry on lose last year's unspent points.
        "name": "points: expire last year's points",
        "task": "points.tasks.points_expire_last_year",
        "crontab": {
            "minute": "30",
            "hour": "2",
            "day_of_month": "1",
            "month_of_year": "1",
        },
    },
    {
        # The cached balances are proved against the ledger every night.
        "name": "points: check balances against the ledger",
        "task": "points.tasks.points_check_ledger",
        "crontab": {"minute": "15", "hour": "3"},
    },
]
