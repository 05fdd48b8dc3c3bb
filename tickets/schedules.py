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
]
