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


def test_residents_are_written_encrypted_through_their_fields(db):
    """Residents' ID numbers and phones are encrypted at rest (grids/pii.py), so
    the generator writes them through each field's own conversion: distinct
    18-character numbers, their keyed hash filled, no plaintext in the table."""
    from grids.pii import blind_index

    generate.build_regions(grids=2)
    assert generate.build_households(per_grid=30) == (60, 200)
    residents = list(Resident.objects.values_list(*RESIDENT, "id_number_hash"))
    assert len(residents) == 200
    assert len({row[2] for row in residents}) == 200
    for row in residents:
        assert len(row[2]) == 18
        assert row[-1] == blind_index(row[2])
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM grids_resident")
        stored = cursor.fetchall()
    plain = {(row[2], row[5]) for row in residents}
    assert not plain & set(stored)
