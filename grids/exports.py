"""Safe cells for spreadsheet exports (CSV and Excel).

A text cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab, carriage
return or line feed before one) is read as a formula by Excel, WPS and
LibreOffice: a resident named ``=HYPERLINK("http://…","点我")`` becomes a live
link in the community's ledger. ``safe_cell`` prefixes such text with an
apostrophe so it stays text; numbers, dates and empty cells pass unchanged.
Every export calls it on each cell it writes.
"""

from collections.abc import Iterable
from typing import Any

from django.utils.functional import Promise

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet cell that cannot start a formula."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str | Promise):
        text = str(value)
        return "'" + text if text.startswith(FORMULA_PREFIXES) else text
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """Each cell of a row through ``safe_cell``."""
    return [safe_cell(v) for v in values]
