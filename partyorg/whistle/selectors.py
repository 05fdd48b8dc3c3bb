"""Reads of 吹哨报到, scoped by the actor's Region subtree; the counts per
department (per month, and over a period for the assessment) are one
aggregate query each."""

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from .choices import CallStatus
from .models import Whistle, WhistleCall


def whistle_list(*, actor):
    return Whistle.objects.visible_to(actor).select_related(
        "region", "community", "ticket"
    )


def whistle_detail(*, actor, whistle_id: int) -> Whistle | None:
    """The whistle if it lies in the actor's area, else None (the page: 404)."""
    return (
        whistle_list(actor=actor).select_related("topic").filter(pk=whistle_id).first()
    )


def whistle_calls(*, whistle: Whistle):
    return whistle.calls.select_related("department", "member").order_by("id")


_COUNTS = {
    "called": Count("id"),
    "on_time": Count("id", filter=Q(status=CallStatus.ON_TIME)),
    "late": Count("id", filter=Q(status=CallStatus.LATE)),
    "absent": Count("id", filter=Q(status=CallStatus.ABSENT)),
    "pending": Count("id", filter=Q(status=CallStatus.PENDING)),
}


def _department_calls(*, actor, start=None, end=None):
    calls = WhistleCall.objects.visible_to(actor).filter(department__isnull=False)
    if start is not None:
        calls = calls.filter(whistle__blown_at__gte=start)
    if end is not None:
        calls = calls.filter(whistle__blown_at__lt=end)
    return calls


def department_attendance_by_month(*, actor, start=None, end=None) -> list[dict]:
    """Per department and month (of the whistle): how often it was summoned in
    the actor's area, and how often it came on time, late, or not at all."""
    rows = (
        _department_calls(actor=actor, start=start, end=end)
        .annotate(month=TruncMonth("whistle__blown_at"))
        .values("department_id", "department__name", "month")
        .annotate(**_COUNTS)
        .order_by("month", "department__name")
    )
    return list(rows)


def department_assessment(*, actor, start=None, end=None) -> list[dict]:
    """The figure the departments' assessment reads (报到率): per department,
    the summonses decided (arrived or absent) and the shares on time and
    arrived at all. Pending summonses are not yet decided and not counted in
    the rates."""
    rows = (
        _department_calls(actor=actor, start=start, end=end)
        .values("department_id", "department__name")
        .annotate(**_COUNTS)
        .order_by("department__name")
    )
    result = []
    for row in rows:
        decided = row["on_time"] + row["late"] + row["absent"]
        row["decided"] = decided
        row["arrival_rate"] = (
            round(100 * (row["on_time"] + row["late"]) / decided, 1)
            if decided
            else None
        )
        row["on_time_rate"] = (
            round(100 * row["on_time"] / decided, 1) if decided else None
        )
        result.append(row)
    return result
