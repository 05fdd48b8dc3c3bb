"""``grids.exports.safe_cell``: exported text never starts a spreadsheet formula."""

import datetime as dt

import pytest

from grids.exports import safe_cell, safe_row


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://x","y")',
        "+1",
        "-1+1",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "=",
        "\n=1",
    ],
)
def test_formula_leading_text_is_prefixed(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    ["张三丰", "", "a=b", "1+1", " =1", "'already"],
)
def test_plain_text_is_unchanged(value):
    assert safe_cell(value) == value


@pytest.mark.parametrize(
    "value", [None, 0, -20, 3.5, dt.date(2026, 1, 1), dt.datetime(2026, 1, 1, 8, 0)]
)
def test_non_text_is_unchanged(value):
    assert safe_cell(value) == value


def test_lazy_text_is_escaped_as_text():
    from django.utils.functional import lazy

    lazy_str = lazy(lambda: "=1+1", str)()
    assert safe_cell(lazy_str) == "'=1+1"


def test_safe_row_escapes_each_cell():
    assert safe_row(["=1", 5, "ok"]) == ["'=1", 5, "ok"]
