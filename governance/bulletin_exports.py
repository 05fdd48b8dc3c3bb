"""Excel files of the weekly bulletin, the monthly ranking and the yearly
summary: the same figures as their pages (``governance.bulletins``), every cell
through ``grids.exports.safe_row`` so a name never becomes a formula."""

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from grids.exports import safe_row

from .bulletins import WEEK_COUNTS


def week_count_labels() -> dict:
    return {
        "received": _("Received"),
        "closed": _("Closed"),
        "overdue": _("Overdue"),
        "escalated": _("Escalated"),
        "patrols": _("Patrol entries"),
        "patrol_days": _("Patrol days"),
    }


def _workbook(sheets: list[tuple[str, list[list]]], widths=None) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        for row in rows:
            sheet.append(safe_row(row))
        for index, width in enumerate(widths or [], start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _node_rows(nodes, label: str) -> list[list]:
    labels = week_count_labels()
    header = [label]
    for key in WEEK_COUNTS:
        header += [labels[key], _("last week"), pgettext("against last week", "change")]
    rows = [header]
    for node in nodes:
        row = [node.name]
        for _key, current, previous, change in node.rows:
            row += [current, previous, change]
        rows.append(row)
    return rows


def weekly_bulletin_workbook(bulletin: dict) -> bytes:
    area = bulletin["area"]
    sheets = [(_("Summary"), _node_rows([area], _("Whole area")))]
    if bulletin["communities"]:
        sheets.append(
            (_("By community"), _node_rows(bulletin["communities"], _("Community")))
        )
    sheets.append((_("By grid"), _node_rows(bulletin["grids"], _("Grid"))))
    worst = [
        [_("Ticket"), _("Category"), _("Place"), _("Handling due"), _("Days overdue")]
    ]
    for ticket in bulletin["worst"]:
        worst.append(
            [
                ticket.number,
                ticket.category.name if ticket.category_id else "",
                ticket.region.name,
                timezone.localtime(ticket.handling_due_at).replace(tzinfo=None),
                ticket.days_overdue,
            ]
        )
    sheets.append((_("Worst overdue"), worst))
    return _workbook(sheets, widths=[20] + [10] * 18)


def monthly_ranking_workbook(ranking: dict) -> bytes:
    rows = [
        [
            _("Position"),
            _("Grid"),
            _("Community"),
            _("Score"),
            _("Class"),
            _("Rank in street"),
            _("Last month's class"),
            _("Smoothed"),
            _("State"),
            _("Ten best"),
            _("Ten worst"),
        ]
    ]
    for position, rating in enumerate(ranking["ratings"], start=1):
        rows.append(
            [
                position,
                rating.grid.name,
                rating.grid.parent.name if rating.grid.parent_id else "",
                float(rating.score) if rating.score is not None else None,
                rating.rating_class,
                rating.rank_in_street,
                rating.previous_class or "",
                _("yes") if rating.is_smoothed else "",
                rating.get_state_display(),
                _("yes") if rating.is_best else "",
                _("yes") if rating.is_worst else "",
            ]
        )
    movers = [[_("Grid"), _("Last month's class"), _("Class"), _("Moved")]]
    for rating in ranking["movers"]:
        movers.append(
            [
                rating.grid.name,
                rating.previous_class,
                rating.rating_class,
                _("up") if rating.moved > 0 else _("down"),
            ]
        )
    return _workbook(
        [
            (f"{ranking['month']:%Y-%m}", rows),
            (_("Movers"), movers),
        ],
        widths=[8, 20, 20, 8, 6, 10, 10, 8, 10, 8, 8],
    )


def yearly_summary_workbook(summary: dict) -> bytes:
    header = [_("Grid"), _("Community")]
    header += [f"{month:%m}" for month in summary["months"]]
    header += ["A", "B", "C", _("Average score"), _("Ten best"), _("Ten worst")]
    rows = [header]
    for row in summary["rows"]:
        rows.append(
            [row["grid__name"], row["grid__parent__name"] or ""]
            + row["months"]
            + [
                row["class_A"],
                row["class_B"],
                row["class_C"],
                round(float(row["average"]), 2) if row["average"] is not None else None,
                row["best"],
                row["worst"],
            ]
        )
    return _workbook(
        [(str(summary["year"]), rows)], widths=[20, 20] + [5] * 12 + [5, 5, 5, 10, 8, 8]
    )
