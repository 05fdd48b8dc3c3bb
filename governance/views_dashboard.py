"""The supervisors' dashboard pages (issue 12): one page per Region node of the
user's area and month, and the CSV / Excel download of each of its tables.

Thin: the figures come from ``governance.dashboard``; a node outside the area
(or missing) is a 404, a role without the dashboard (grid workers) a 403.
"""

import csv
import datetime as dt
import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET
from openpyxl import Workbook

from grids.errors import OutOfScope
from grids.exports import safe_row
from grids.models import Region
from grids.params import parse_id

from . import dashboard as selectors
from .permissions import can_see_dashboard

EXPORT_FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_role(user) -> None:
    if not can_see_dashboard(user):
        raise PermissionDenied


def _region(user, region_id: int) -> Region:
    region = Region.objects.visible_to(user).filter(pk=region_id).first()
    if region is None:
        raise Http404
    return region


def _month(request) -> dt.date:
    """``?month=YYYY-MM`` (this month when absent or malformed); a month
    outside 2000–2100 is a 404."""
    raw = request.GET.get("month", "")
    year, _sep, month = raw.partition("-")
    year, month = parse_id(year), parse_id(month)
    if year is None or month is None or not 1 <= month <= 12:
        return timezone.localdate().replace(day=1)
    if not 2000 <= year <= 2100:
        raise Http404
    return dt.date(year, month, 1)


def _figures(request, region_id):
    _require_role(request.user)
    region = _region(request.user, region_id)
    try:
        return region, selectors.dashboard(
            actor=request.user, region=region, month=_month(request)
        )
    except OutOfScope:
        raise Http404 from None


@login_required
@require_GET
def dashboard_home(request):
    """The dashboard of the user's own node (an administrator without one: the
    first root of the tree)."""
    _require_role(request.user)
    region = request.user.scope_region
    if region is None:
        region = Region.objects.filter(parent=None).order_by("tree_id").first()
        if region is None:
            raise Http404
    return redirect("dashboard:region", region_id=region.pk)


@login_required
@require_GET
def dashboard_page(request, region_id: int):
    region, figures = _figures(request, region_id)
    root, month_param = reverse("dashboard:home"), f"{figures['month']:%Y-%m}"
    scope = request.user.scope_region
    # The path from the user's own node down to this one, for the breadcrumbs.
    path = [
        node for node in region.get_ancestors() if scope is None or scope.contains(node)
    ]
    return render(
        request,
        "governance/dashboard/dashboard.html",
        {
            **figures,
            "path": path,
            # Links are written as root + id (no URL reversing per row: a
            # district's map lists ~2,000 grids).
            "dash_root": root,
            "month_param": month_param,
            "charts": [table.as_json() for table in figures["tables"]],
            # Each table with its rows already joined (see _table_body).
            "table_cards": [
                (table, _table_body(table, root, month_param))
                for table in figures["tables"]
            ],
            "export_url": reverse("dashboard:export", args=[region.pk]),
            "map_data": _map_json(figures["map"]),
            "map_rows": _map_rows(figures["map"], root, month_param),
        },
    )


@login_required
@require_GET
def dashboard_export(request, region_id: int):
    """``?table=<key>&format=csv|xlsx``: one table of the page as a file."""
    fmt = request.GET.get("format", "csv")
    key = request.GET.get("table", "")
    if fmt not in EXPORT_FORMATS:
        raise Http404
    region, figures = _figures(request, region_id)
    table = next((t for t in figures["tables"] if t.key == key), None)
    if table is None:
        raise Http404
    rows = [safe_row(table.columns)] + [
        safe_row(table.as_json()["rows"][i]) for i in range(len(table.rows))
    ]
    name = f"dashboard-{region.code or region.pk}-{figures['month']:%Y-%m}-{key}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerows(rows)
        # A byte-order mark so that Excel and WPS read the Chinese as UTF-8.
        response = HttpResponse(
            "\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8"
        )
    else:
        book = Workbook()
        sheet = book.active
        sheet.title = key[:31]
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _map_rows(grids: list[dict], root: str, month_param: str):
    """The rows of the map's table (each grid, linked, and its class), joined
    in Python: a district's ~2,000 rows cost a tenth of a template loop. The
    link's fixed part is escaped once; each name and class is escaped."""
    link = f"{escape(root)}{{}}/?month={escape(month_param)}"
    return mark_safe(
        "".join(
            f'<tr><th scope="row"><a href="{link.format(int(grid["pk"]))}">'
            f"{escape(grid['name'])}</a></th>"
            f"<td>{escape(grid['rating_class'] or '–')}</td></tr>"
            for grid in grids
        )
    )


def _table_body(table, root: str, month_param: str):
    """The <tbody> rows of one chart's table (``Table.display_rows``), joined in
    Python as the map's rows are: the first cell a row header, linked to the
    row's node when it has one; every cell escaped."""
    link = f"{escape(root)}{{}}/?month={escape(month_param)}"
    rows = []
    for row_id, cells in table.display_rows():
        first = escape(cells[0]) if cells else ""
        if row_id:
            first = f'<a href="{link.format(int(row_id))}">{first}</a>'
        rest = "".join(f"<td>{escape(cell)}</td>" for cell in cells[1:])
        rows.append(f'<tr><th scope="row">{first}</th>{rest}</tr>')
    return mark_safe("\n".join(rows))


def _map_json(grids: list[dict]) -> dict:
    """The map's data: a GeoJSON FeatureCollection of the grids with a stored
    boundary, and the centre points of the others."""
    features, points = [], []
    for grid in grids:
        item = {
            "id": grid["pk"],
            "name": grid["name"],
            "cls": grid["rating_class"] or "",
        }
        boundary = grid["boundary"]
        if isinstance(boundary, dict) and boundary.get("type") == "Feature":
            boundary = boundary.get("geometry")
        if boundary:
            features.append(
                {
                    "type": "Feature",
                    "properties": {"name": str(grid["pk"])},
                    "geometry": boundary,
                }
            )
            item["shape"] = True
        if grid["latitude"] is not None and grid["longitude"] is not None:
            item["lon"] = float(grid["longitude"])
            item["lat"] = float(grid["latitude"])
        points.append(item)
    return {
        "geojson": {"type": "FeatureCollection", "features": features},
        "grids": points,
    }
