"""Writes of the tickets app: one function per use case, split by family.

Every change of a ticket goes through these functions, whatever calls them (the
admin, the phone pages, the API, tasks, ``seed_demo``).
"""

from .calendar import (
    tickets_recompute_provisional_deadlines,
    work_calendar_confirm_year,
    work_calendar_fill_year,
    work_calendar_prefill_year,
    work_calendar_set_day,
)
from .catalogue import (
    category_create,
    category_deactivate,
    category_update,
    deadline_class_create,
    deadline_class_deactivate,
    deadline_class_for,
    deadline_class_update,
    department_create,
    department_deactivate,
    department_update,
)
from .escalation import tickets_escalate_overdue, tickets_send_reminders
from .evaluation import (
    evaluation_token,
    evaluation_url,
    suggested_scores,
    ticket_assess,
    ticket_evaluate_by_link,
    ticket_record_phone_verdict,
    ticket_reporter_message,
    ticket_send_evaluation_link,
    tickets_mark_unevaluated,
)
from .intake import ticket_create, ticket_likely_duplicates, ticket_merge
from .lifecycle import (
    handler_choices,
    ticket_accept,
    ticket_dispatch,
    ticket_handle,
    ticket_report_up,
    ticket_return,
    ticket_triage,
    ticket_triage_and_dispatch,
    tickets_bulk_dispatch,
)
from .selfreport import (
    self_report_rate_check,
    ticket_self_report,
    tracking_state,
    tracking_token,
    tracking_url,
)
from .visits import visit_record_with_ticket

__all__ = [
    "category_create",
    "category_deactivate",
    "category_update",
    "deadline_class_create",
    "deadline_class_deactivate",
    "deadline_class_for",
    "deadline_class_update",
    "department_create",
    "department_deactivate",
    "department_update",
    "evaluation_token",
    "evaluation_url",
    "handler_choices",
    "self_report_rate_check",
    "suggested_scores",
    "ticket_accept",
    "ticket_assess",
    "ticket_create",
    "ticket_dispatch",
    "ticket_evaluate_by_link",
    "ticket_handle",
    "ticket_likely_duplicates",
    "ticket_merge",
    "ticket_record_phone_verdict",
    "ticket_report_up",
    "ticket_reporter_message",
    "ticket_return",
    "ticket_self_report",
    "ticket_send_evaluation_link",
    "ticket_triage",
    "ticket_triage_and_dispatch",
    "tickets_bulk_dispatch",
    "tickets_escalate_overdue",
    "tickets_mark_unevaluated",
    "tickets_recompute_provisional_deadlines",
    "tickets_send_reminders",
    "tracking_state",
    "tracking_token",
    "tracking_url",
    "visit_record_with_ticket",
    "work_calendar_confirm_year",
    "work_calendar_fill_year",
    "work_calendar_prefill_year",
    "work_calendar_set_day",
]
