"""Pages of the periodic reports (周通报, 月评比, 年奖惩) and the grid page, each
with an A4 print stylesheet and (the three reports) an Excel download. Thin:
parse the query string, call ``governance.bulletins``, render. Read-only, so
supervisors open them like staff; a region outside the reader's area, or of a
level the report is not kept for, is a 404."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from grids.errors import DomainError, OutOfScope
from grids.models import Region
from grids.params import parse_id

from . import bulletin_exports, bulletins
from .bulletin_exports import week_count_labels
from .indicators import previous_month
from .permissions import can_see_ratings

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _region(request, levels) -> Region:
    """``?region=<id>`` when given (404 when malformed or outside the area),
    else the reader's default node for the report."""
    if not can_see_ratings(request.user):
        raise PermissionDenied
    raw = request.GET.get("region")
    if raw:
        region_id = parse_id(raw)
        region = (
            Region.objects.visible_to(request.user).filter(pk=region_id).first()
            if region_id is not None
            else None
        )
    else:
        region = bulletins.default_region(request.user, levels)
    if region is None or region.level not in levels:
        raise Http404
    return region


def _month(request) -> dt.date:
    """``?month=YYYY-MM``; empty: last month (the newest one rated)."""
    raw = (request.GET.get("month") or "").strip()
    if not raw:
        return previous_month(timezone.localdate())
    parts = raw.split("-")
    year = parse_id(parts[0]) if len(parts) == 2 else None
    month = parse_id(parts[1]) if len(parts) == 2 else None
    if year is None or month is None or not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404
    if not 1 <= month <= 12:
        raise Http404
    return dt.date(year, month, 1)


def _week(request) -> dt.date:
    """``?week=YYYY-Www``; empty: the last whole week."""
    raw = request.GET.get("week")
    if not raw:
        today = timezone.localdate()
        return today - dt.timedelta(days=today.weekday() + 7)
    monday = bulletins.parse_iso_week(raw)
    if monday is None or not FIRST_YEAR <= monday.year <= LAST_YEAR:
        raise Http404
    return monday


def _year(request) -> int:
    raw = request.GET.get("year")
    if not raw:
        return timezone.localdate().year
    year = parse_id(raw)
    if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404
    return year


def _call(function, **kwargs):
    try:
        return function(**kwargs)
    except (OutOfScope, DomainError):
        raise Http404 from None


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _region_code(region) -> str:
    return region.code or str(region.pk)


@require_safe
@login_required
def weekly_bulletin(request, xlsx=False):
    region = _region(request, bulletins.BULLETIN_LEVELS)
    monday = _week(request)
    bulletin = _call(
        bulletins.weekly_bulletin, actor=request.user, region=region, monday=monday
    )
    year, week, _day = bulletin["iso"]
    if xlsx:
        return _xlsx(
            bulletin_exports.weekly_bulletin_workbook(bulletin),
            f"weekly-bulletin-{_region_code(region)}-{year}-W{week:02d}.xlsx",
        )
    previous = monday - dt.timedelta(days=7)
    following = monday + dt.timedelta(days=7)
    return render(
        request,
        "governance/bulletins/weekly.html",
        {
            **bulletin,
            "labels": week_count_labels(),
            "week_param": f"{year}-W{week:02d}",
            "previous_week": "{}-W{:02d}".format(*previous.isocalendar()[:2]),
            "next_week": "{}-W{:02d}".format(*following.isocalendar()[:2])
            if following <= timezone.localdate()
            else "",
        },
    )


@require_safe
@login_required
def monthly_ranking(request, xlsx=False):
    region = _region(request, bulletins.RANKING_LEVELS)
    month = _month(request)
    ranking = _call(
        bulletins.monthly_ranking, actor=request.user, region=region, month=month
    )
    if xlsx:
        return _xlsx(
            bulletin_exports.monthly_ranking_workbook(ranking),
            f"monthly-ranking-{_region_code(region)}-{month:%Y-%m}.xlsx",
        )
    following = (month + dt.timedelta(days=32)).replace(day=1)
    return render(
        request,
        "governance/bulletins/monthly.html",
        {
            **ranking,
            "next_month": following
            if following <= timezone.localdate().replace(day=1)
            else None,
        },
    )


@require_safe
@login_required
def yearly_summary(request, xlsx=False):
    region = _region(request, bulletins.RANKING_LEVELS)
    year = _year(request)
    summary = _call(
        bulletins.yearly_summary, actor=request.user, region=region, year=year
    )
    if xlsx:
        return _xlsx(
            bulletin_exports.yearly_summary_workbook(summary),
            f"yearly-summary-{_region_code(region)}-{year}.xlsx",
        )
    return render(request, "governance/bulletins/yearly.html", summary)


@require_safe
@login_required
def grid_page(request, grid_id):
    if not can_see_ratings(request.user):
        raise PermissionDenied
    grid = Region.objects.visible_to(request.user).filter(pk=grid_id).first()
    if grid is None:
        raise Http404
    month = _month(request) if request.GET.get("month") else timezone.localdate()
    profile = _call(bulletins.grid_profile, actor=request.user, grid=grid, month=month)
    return render(request, "governance/bulletins/grid.html", profile)
