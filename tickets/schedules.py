"""Periodic jobs of the tickets app (installed into django-celery-beat)."""

PERIODIC_TASKS = [
    {
        "name": "tickets: escalate overdue tickets",
        "task": "tickets.tasks.escalate_overdue",
        "interval_seconds": 300,
    },
    {
        "name": "tickets: remind before deadlines",
        "task": "tickets.tasks.send_reminders",
        "interval_seconds": 300,
    },
    {
        "name": "tickets: mark tickets not evaluated",
        "task": "tickets.tasks.mark_unevaluated",
        "interval_seconds": 3600,
    },
    {
        "name": "tickets: send 12345 callbacks again",
        "task": "tickets.tasks.hotline_sweep",
        "interval_seconds": 30,
        "description": "Every 30 seconds: 12345 callbacks due (a retry's time "
        "came, Redis was down at commit, a worker died) are sent to the workers "
        "again.",
    },
]
