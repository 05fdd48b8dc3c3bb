"""Excel export of a community's ledger for one month (积分台账)."""

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from grids.exports import safe_row

from .selectors import ledger_for_month


def _subject(entry) -> str:
    if entry.award_id:
        return entry.award.rule_item.name
    if entry.redemption_id:
        return f"{entry.redemption.prize.name} × {entry.redemption.quantity}"
    return entry.note


def ledger_rows(*, community, year: int, month: int):
    """Header and rows of the export, one row per ledger entry; text that could
    start a spreadsheet formula is escaped (``grids.exports.safe_cell``)."""
    yield safe_row(
        [
            _("Booked at"),
            _("Kind"),
            _("Points"),
            _("Account"),
            _("Household"),
            _("Grid"),
            _("Item or prize"),
            _("Note"),
            _("Booked by"),
        ]
    )
    for entry in ledger_for_month(community=community, year=year, month=month):
        account = entry.account
        yield safe_row(
            [
                timezone.localtime(entry.created_at).replace(tzinfo=None),
                entry.get_kind_display(),
                entry.amount,
                str(account.resident) if account.resident_id else _("(household)"),
                account.household.address,
                account.household.region.name,
                _subject(entry),
                entry.note,
                str(entry.actor) if entry.actor_id else _("(system)"),
            ]
        )


def ledger_workbook(*, community, year: int, month: int) -> bytes:
    """The month's ledger of ``community`` as an .xlsx file."""
    book = Workbook()
    sheet = book.active
    sheet.title = f"{year}-{month:02d}"
    for row in ledger_rows(community=community, year=year, month=month):
        sheet.append(row)
    widths = [20, 14, 8, 12, 24, 16, 24, 24, 12]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_filename(*, community, year: int, month: int) -> str:
    return f"points-ledger-{community.code or community.pk}-{year}-{month:02d}.xlsx"
