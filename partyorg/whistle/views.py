"""Staff pages of 吹哨报到: the departments' arrivals per month and the
assessment figure (报到率) for a year, in the user's area."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from grids import permissions as grid_permissions
from grids.params import parse_id

from . import selectors


@login_required
def department_attendance(request):
    if not grid_permissions.can_view(request.user):
        raise PermissionDenied
    year = parse_id(request.GET.get("year"))
    if year is None:
        year = timezone.localdate().year
    if not 2000 <= year <= 2100:
        raise Http404
    zone = timezone.get_current_timezone()
    start = dt.datetime(year, 1, 1, tzinfo=zone)
    end = dt.datetime(year + 1, 1, 1, tzinfo=zone)
    by_month = selectors.department_attendance_by_month(
        actor=request.user, start=start, end=end
    )
    assessment = selectors.department_assessment(
        actor=request.user, start=start, end=end
    )
    return render(
        request,
        "partyorg/whistle/department_attendance.html",
        {"year": year, "by_month": by_month, "assessment": assessment},
    )
