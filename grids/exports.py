"""Exported spreadsheet cells that stay text (CSV/formula injection).

A spreadsheet program reads a cell that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return as a formula: a resident named ``=HYPERLINK("http://…")``
would become a live link in every export. Such a value is written with a leading
``'``, which spreadsheet programs show as plain text.
"""

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` as a cell that cannot run as a formula: a str starting with a
    formula character gets a leading ``'``; anything else is returned as is."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value
