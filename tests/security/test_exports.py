"""Exports carry no live spreadsheet formula (issue 9, finding 8): a cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written as
text (a leading ``'``), in every grids export."""

import csv
import io

import pytest
from django.urls import reverse
from import_export.formats.base_formats import CSV

from grids.admin_mixins import ServiceImportExportMixin
from grids.exports import safe_cell
from grids.resources import (
    HouseholdResource,
    RegionResource,
    ResidentResource,
    RosterResource,
)
from tests.grids.factories import (
    GridAssignmentFactory,
    GridWorkerFactory,
    HouseholdFactory,
    ResidentFactory,
)
from tests.security.fuzz import post_forms

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://x")'


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("王芳", "王芳"),
        ("", ""),
        ("a=b", "a=b"),
        (None, None),
        (-5, -5),
        (3, 3),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


@pytest.fixture
def hostile_rows(tree):
    grid = tree["grids"][0]
    household = HouseholdFactory(region=grid, address="+幸福路1号")
    resident = ResidentFactory(household=household, name=HYPERLINK)
    worker = GridWorkerFactory(name="@网格员")
    GridAssignmentFactory(worker=worker, grid=grid)
    return {"resident": resident, "household": household, "worker": worker}


def _cells(dataset):
    return [cell for row in dataset for cell in row]


@pytest.mark.parametrize(
    "resource_class",
    [RegionResource, RosterResource, HouseholdResource, ResidentResource],
)
def test_no_exported_cell_starts_a_formula(
    resource_class, hostile_rows, street_staff, tree
):
    dataset = resource_class(user=street_staff).export()
    for cell in _cells(dataset):
        assert not (isinstance(cell, str) and cell[:1] in "=+-@\t\r" and cell), cell


def test_a_resident_named_like_a_formula_exports_as_text(hostile_rows, street_staff):
    dataset = ResidentResource(user=street_staff).export()
    assert "'" + HYPERLINK in _cells(dataset)
    assert HYPERLINK not in _cells(dataset)


def test_the_admin_csv_export_writes_the_name_as_text(
    client, hostile_rows, street_staff
):
    client.force_login(street_staff)
    url = reverse("admin:grids_resident_export")
    page = client.get(url)
    assert page.status_code == 200
    (form,) = [
        f for f in post_forms(page.content.decode(), url) if "format" in f.fields
    ]
    formats = ServiceImportExportMixin().get_export_formats()
    data = dict(form.fields)
    for name in data:  # every field of the export
        if name.startswith("residentresource_"):
            data[name] = ["on"]
    data["format"] = [str(formats.index(CSV))]
    response = client.post(url, data)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert "'" + HYPERLINK in cells
    assert HYPERLINK not in cells
