"""The bench generator (bench/generate.py) writes a Region tree whose MPTT
columns are those django-mptt computes, and households whose stored resident
counts equal their residents; a second call reuses the data."""

import pytest
from django.db import connection
from django.db.models import Count, Q

from bench import generate
from grids.models import Household, Region, Resident

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the generator writes with COPY"
)

MPTT_COLUMNS = ("pk", "parent_id", "lft", "rght", "tree_id", "depth")
RESIDENT = (
    "household_id",
    "name",
    "id_number",
    "gender",
    "birth_date",
    "phone",
    "relationship",
    "residence_type",
    "is_active",
)


@pytest.mark.parametrize("grids", [1, 29, 2062 + 14 * 10 * 15 + 3])
def test_region_tree_equals_mptt_rebuild(db, grids):
    generate.build_regions(grids=grids)
    written = list(Region.objects.order_by("pk").values_list(*MPTT_COLUMNS))
    assert Region.objects.filter(level="grid").count() == grids
    Region.objects.rebuild()
    assert list(Region.objects.order_by("pk").values_list(*MPTT_COLUMNS)) == written


def test_dataset_counts_and_reuse(db):
    first = generate.ensure_dataset(grids=4)
    assert first.built
    assert first.households == 4 * generate.HOUSEHOLDS_PER_GRID
    # ~1,000 people per grid of 300 households.
    assert first.residents == 4000
    stored = dict(Household.objects.values_list("pk", "resident_count"))
    actual = dict(
        Household.objects.annotate(
            n=Count("residents", filter=Q(residents__is_active=True))
        ).values_list("pk", "n")
    )
    assert stored == actual
    again = generate.ensure_dataset(grids=4)
    assert not again.built
    assert again.households == first.households
    users = generate.ensure_users(again)
    assert users["supervisor"].region_id == again.districts[0]


def test_the_python_path_writes_the_same_residents(db):
    """The path taken when a resident column is not stored as its value
    (encrypted, hashed): the same rows through each field's own conversion."""
    generate.build_regions(grids=2)
    generate.build_households(per_grid=30, method="sql")
    by_sql = list(
        Resident.objects.order_by("household_id", "name").values_list(*RESIDENT)
    )
    Resident.objects.all().delete()
    # No new households; residents for the 60 there (sizes 1–5, 20 per 6).
    assert generate.build_households(per_grid=0, method="python") == (0, 200)
    by_python = list(
        Resident.objects.order_by("household_id", "name").values_list(*RESIDENT)
    )
    assert len(by_sql) == 200
    assert by_python == by_sql
