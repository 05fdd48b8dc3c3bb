"""Bench data at the seeds' scale: a Region tree of ``grids`` grids (2,062 is a
district, 49,000 a province), ~300 households and ~1,000 people per grid.

Regions are laid out in Python (MPTT ``lft``/``rght``/``tree_id``/``depth``
computed as nested sets, depth first in code order, which is what
``order_insertion_by = ["code", "name"]`` gives) and written with one COPY;
households and residents are written by ``INSERT … SELECT generate_series`` in
the database, with each household's ``resident_count`` set as its residents are
made (residents by COPY through the model's own field conversion instead, when a
resident column is stored encrypted or hashed). Idempotent: a database that already holds the data for this size is
reused; one built at another size is emptied first (TRUNCATE … CASCADE: this
is a bench database, never a real one).

    python bench/generate.py --grids 2062      # prints what it built, as JSON

Other benches call it: ``from generate import ensure_dataset; ensure_dataset(grids=2062)``
(after ``_setup.setup()``), or ``build_regions(grids=…)`` for the tree alone.
"""

import argparse
import datetime as dt
import io
import json
import time
from dataclasses import dataclass, field

# Shape of a district (seed 000: a district has ~15 streets, a street ~10
# communities, a community ~14 grids): grids fill communities in order, so the
# last community, street and district may be smaller.
GRIDS_PER_COMMUNITY = 14
COMMUNITIES_PER_STREET = 10
STREETS_PER_DISTRICT = 15
HOUSEHOLDS_PER_GRID = 300
# Household sizes cycle through 1, 2, 3, 4, 5, 5: 20 people per 6 households,
# 3.33 on average, ~1,000 people per grid of 300 households (the seeds' figure).
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 5)
DISTRICT_CODE_BASE = 370100
DISTRICT_SUPERVISOR = "bench-district"
STREET_STAFF = "bench-street"

REGION_COLUMNS = (
    "id",
    "parent_id",
    "name",
    "level",
    "code",
    "is_active",
    "lft",
    "rght",
    "tree_id",
    "depth",
)


@dataclass
class Dataset:
    grids: int
    regions: int = 0
    districts: list = field(default_factory=list)  # region ids, tree order
    streets: list = field(default_factory=list)
    communities: list = field(default_factory=list)
    households: int = 0
    residents: int = 0
    built: bool = False
    seconds: dict = field(default_factory=dict)


def region_rows(grids: int):
    """The rows of the Region tree for ``grids`` grids, ids from 1, as tuples
    of ``REGION_COLUMNS``. Pure Python, no database."""
    communities = -(-grids // GRIDS_PER_COMMUNITY)
    streets = -(-communities // COMMUNITIES_PER_STREET)
    districts = -(-streets // STREETS_PER_DISTRICT)
    rows = []
    next_id = 1

    def children_count(level, index):
        if level == "district":
            return min(STREETS_PER_DISTRICT, streets - index * STREETS_PER_DISTRICT)
        if level == "street":
            return min(
                COMMUNITIES_PER_STREET, communities - index * COMMUNITIES_PER_STREET
            )
        if level == "community":
            return min(GRIDS_PER_COMMUNITY, grids - index * GRIDS_PER_COMMUNITY)
        return 0

    child_level = {"district": "street", "street": "community", "community": "grid"}
    label = {"district": "区", "street": "街道", "community": "社区", "grid": "网格"}
    counters = {"street": 0, "community": 0, "grid": 0}

    def add(level, index, parent_id, code, tree_id, depth, lft):
        """Append the node and its subtree; return the next free ``lft``."""
        nonlocal next_id
        pk = next_id
        next_id += 1
        position = len(rows)
        rows.append(None)  # filled once rght is known
        cursor = lft + 1
        if level in child_level:
            for n in range(children_count(level, index)):
                kind = child_level[level]
                child_index = counters[kind]
                counters[kind] += 1
                cursor = add(
                    kind,
                    child_index,
                    pk,
                    f"{code}{n + 1:03d}",
                    tree_id,
                    depth + 1,
                    cursor,
                )
        rows[position] = (
            pk,
            parent_id,
            f"{label[level]}{code}",
            level,
            code,
            True,
            lft,
            cursor,
            tree_id,
            depth,
        )
        return cursor + 1

    for d in range(districts):
        add("district", d, None, f"{DISTRICT_CODE_BASE + d:06d}", d + 1, 0, 1)
    return rows


def _copy(cursor, table, columns, rows):
    def cell(value):
        if value is None:
            return "\\N"
        if value is True:
            return "t"
        if value is False:
            return "f"
        if isinstance(value, (bytes, memoryview)):
            return "\\\\x" + bytes(value).hex()
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )

    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(cell(v) for v in row) + "\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def _ids(level):
    from grids.models import Region

    return list(
        Region.objects.filter(level=level)
        .order_by("tree_id", "lft")
        .values_list("pk", flat=True)
    )


def _already_built(grids: int, households: bool) -> bool:
    from grids.models import Household, Region

    return (
        Region.objects.filter(level="grid").count() == grids
        and Region.objects.count() == len(region_rows(grids))
        and (not households or Household.objects.count() == grids * HOUSEHOLDS_PER_GRID)
    )


def _empty(cursor):
    # CASCADE: staff accounts and every row that refers to a region go too.
    cursor.execute(
        "TRUNCATE grids_resident_tags, grids_resident, grids_household, "
        "grids_region CASCADE"
    )


def build_regions(*, grids: int) -> Dataset:
    """Empty the bench database's regions and write the tree for ``grids``
    grids (one COPY); sequences moved past the ids used."""
    from django.db import connection, transaction

    dataset = Dataset(grids=grids)
    started = time.perf_counter()
    rows = region_rows(grids)
    with transaction.atomic(), connection.cursor() as cursor:
        _empty(cursor)
        _copy(cursor.cursor, "grids_region", REGION_COLUMNS, rows)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('grids_region', 'id'), %s)",
            [len(rows)],
        )
    dataset.seconds["regions"] = round(time.perf_counter() - started, 2)
    return dataset


def residents_are_plain() -> bool:
    """Whether every column of a resident is a plain Django field whose stored
    value is the value itself (then SQL can write them); an encrypted or derived
    field (a ciphertext, a keyed hash) needs the Python path."""
    from django.db import models

    from grids.models import Resident

    plain = (
        models.CharField,
        models.DateField,
        models.BooleanField,
        models.ForeignKey,
        models.BigAutoField,
    )
    return all(type(f) in plain for f in Resident._meta.concrete_fields)


def build_households(
    *, per_grid: int = HOUSEHOLDS_PER_GRID, method: str | None = None
) -> tuple[int, int]:
    """``per_grid`` households on every grid and their residents. Households by
    one INSERT … SELECT; residents by one INSERT … SELECT as well (``"sql"``),
    or, when a resident column is not stored as its value (encrypted, hashed),
    built in Python and written by COPY with each field's own conversion
    (``"python"``, slower). Returns (households, residents)."""
    from django.db import connection, transaction

    sizes = "ARRAY[" + ",".join(map(str, HOUSEHOLD_SIZES)) + "]"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO grids_household
                (region_id, address, household_number, notes, resident_count,
                 created_at, updated_at)
            SELECT g.id, g.name || '幸福路' || n || '号', g.code || lpad(n::text, 4, '0'),
                   '', ({sizes})[1 + mod(g.id + n, {len(HOUSEHOLD_SIZES)})], now(), now()
            FROM grids_region g, generate_series(1, %s) n
            WHERE g.level = 'grid'
            ORDER BY g.id, n
            """,
            [per_grid],
        )
        households = cursor.rowcount
        if method is None:
            method = "sql" if residents_are_plain() else "python"
        if method == "sql":
            # ID-card numbers: district code, a birth date from the person's serial
            # (unique with the 3-digit sequence), check digit not computed (bench
            # rows are written around validation).
            cursor.execute(
                """
                INSERT INTO grids_resident
                    (household_id, name, id_number, gender, birth_date, phone,
                     relationship, residence_type, is_active)
                SELECT h.id,
                       '居民' || h.id || '-' || k,
                       '370102' || to_char(b.birth, 'YYYYMMDD')
                           || lpad((s.serial % 1000)::text, 3, '0') || '0',
                       CASE WHEN s.serial % 2 = 1 THEN 'male' ELSE 'female' END,
                       b.birth,
                       CASE WHEN k = 1 THEN '138' || lpad((h.id % 100000000)::text, 8, '0')
                            ELSE '' END,
                       CASE k WHEN 1 THEN 'head' WHEN 2 THEN 'spouse' ELSE 'child' END,
                       CASE WHEN s.serial % 10 < 7 THEN 'registered'
                            WHEN s.serial % 10 < 9 THEN 'resident'
                            ELSE 'floating' END,
                       true
                FROM grids_household h,
                     generate_series(1, h.resident_count) k,
                     LATERAL (SELECT h.id::bigint * 5 + k AS serial) s,
                     LATERAL (SELECT DATE '1930-01-01' + (s.serial / 1000)::int AS birth) b
                """
            )
            residents = cursor.rowcount
        else:
            residents = _residents_by_copy(cursor.cursor)
    return households, residents


def _resident_values(household_id: int, k: int) -> dict:
    """The same resident the SQL path writes, as field values."""
    serial = household_id * 5 + k
    birth = dt.date(1930, 1, 1) + dt.timedelta(days=serial // 1000)
    return {
        "household_id": household_id,
        "name": f"居民{household_id}-{k}",
        "id_number": f"370102{birth:%Y%m%d}{serial % 1000:03d}0",
        "gender": "male" if serial % 2 == 1 else "female",
        "birth_date": birth,
        "phone": f"138{household_id % 100_000_000:08d}" if k == 1 else "",
        "relationship": {1: "head", 2: "spouse"}.get(k, "child"),
        "residence_type": "registered"
        if serial % 10 < 7
        else ("resident" if serial % 10 < 9 else "floating"),
        "is_active": True,
    }


def _residents_by_copy(raw_cursor, chunk: int = 50_000) -> int:
    """Every household's ``resident_count`` residents, converted by the model's
    fields (``pre_save`` then ``get_db_prep_save``, as ``bulk_create`` does) and
    written by COPY in chunks."""
    from django.db import connection

    from grids.models import Household, Resident

    fields = [f for f in Resident._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    rows, written = [], 0

    def flush():
        nonlocal rows, written
        _copy(raw_cursor, Resident._meta.db_table, columns, rows)
        written += len(rows)
        rows = []

    households = (
        Household.objects.order_by("pk")
        .values_list("pk", "resident_count")
        .iterator(chunk_size=20_000)
    )
    for household_id, count in households:
        for k in range(1, count + 1):
            resident = Resident(**_resident_values(household_id, k))
            rows.append(
                [
                    f.get_db_prep_save(f.pre_save(resident, True), connection)
                    for f in fields
                ]
            )
        if len(rows) >= chunk:
            flush()
    if rows:
        flush()
    return written


def ensure_users(dataset: Dataset):
    """The district supervisor of the first district and the staff of its first
    street, as the benches log in (unusable passwords)."""
    from grids.models import User

    accounts = {}
    for username, role, region_id in (
        (DISTRICT_SUPERVISOR, "supervisor", dataset.districts[0]),
        (STREET_STAFF, "street_staff", dataset.streets[0]),
    ):
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={"role": role, "region_id": region_id, "is_staff": True},
        )
        if user.has_usable_password():
            user.set_unusable_password()
            user.save(update_fields=["password"])
        accounts[role] = User.objects.select_related("region").get(pk=user.pk)
    return accounts


def ensure_dataset(*, grids: int, households: bool = True) -> Dataset:
    """The bench data for ``grids`` grids, built unless already there."""
    from django.db import connection

    from grids.models import Household, Region, Resident

    if _already_built(grids, households):
        dataset = Dataset(grids=grids)
    else:
        dataset = build_regions(grids=grids)
        dataset.built = True
        if households:
            started = time.perf_counter()
            build_households()
            dataset.seconds["households_and_residents"] = round(
                time.perf_counter() - started, 2
            )
            started = time.perf_counter()
            # VACUUM too: the visibility map lets counts use index-only scans
            # (not possible inside a transaction, e.g. in a test: ANALYZE only).
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            with connection.cursor() as cursor:
                cursor.execute(
                    f"{command} grids_region, grids_household, grids_resident"
                )
            dataset.seconds["vacuum_analyze"] = round(time.perf_counter() - started, 2)
    dataset.regions = Region.objects.count()
    dataset.districts = _ids("district")
    dataset.streets = _ids("street")
    dataset.communities = _ids("community")
    dataset.households = Household.objects.count()
    dataset.residents = Resident.objects.count()
    return dataset


def main():
    from _setup import setup

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grids", type=int, default=2062)
    parser.add_argument(
        "--regions-only", action="store_true", help="the tree without households"
    )
    args = parser.parse_args()
    setup()
    started = time.perf_counter()
    dataset = ensure_dataset(grids=args.grids, households=not args.regions_only)
    ensure_users(dataset)
    print(
        json.dumps(
            {
                "grids": dataset.grids,
                "regions": dataset.regions,
                "districts": len(dataset.districts),
                "streets": len(dataset.streets),
                "communities": len(dataset.communities),
                "households": dataset.households,
                "residents": dataset.residents,
                "built": dataset.built,
                "seconds": {
                    **dataset.seconds,
                    "total": round(time.perf_counter() - started, 2),
                },
            },
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
