"""Personal data at rest (grids/pii.py): what encryption and key rotation cost.
Inserts ``BENCH_RESIDENTS`` residents (default 100,000; ID number and phone
encrypted) under one key, then measures with a second key put first: reading
every number (decryption),
one lookup through the hash, ``reencrypt_rows`` (what ``pii_rotate_keys`` and the
upgrade migration run) and its idempotent rerun. Everything runs in one
transaction that is rolled back, so the database is left as it was. Prints one
JSON object.

    .venv/bin/python bench/bench_pii.py
    BENCH_RESIDENTS=20000 DATABASE_URL=postgres://…/other .venv/bin/python bench/bench_pii.py
"""

import datetime as dt
import json
import os
import resource
import time

from _setup import setup

RESIDENTS = int(os.environ.get("BENCH_RESIDENTS", 100_000))
CHUNK = int(os.environ.get("BENCH_CHUNK", 500))


class Rollback(Exception):
    pass


def _timed(function):
    start = time.perf_counter()
    value = function()
    return value, round(time.perf_counter() - start, 3)


def main():
    setup()
    from cryptography.fernet import Fernet
    from django.conf import settings
    from django.db import transaction
    from django.test import override_settings

    from grids import pii
    from grids.models import Household, Region, Resident
    from grids.validators import build_id_number

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    result = {"residents": RESIDENTS, "chunk_size": CHUNK}
    try:
        with transaction.atomic():
            district = Region.objects.create(name="压测区", level="district", code="BP")
            street = Region.objects.create(
                name="压测街道", level="street", code="BP1", parent=district
            )
            community = Region.objects.create(
                name="压测社区", level="community", code="BP11", parent=street
            )
            grid = Region.objects.create(
                name="压测网格", level="grid", code="BP111", parent=community
            )
            household = Household.objects.create(region=grid, address="压测路1号")
            numbers = []
            for n in range(RESIDENTS):
                birth = dt.date(1940, 1, 1) + dt.timedelta(days=n // 900)
                numbers.append(build_id_number("990101", birth, n % 900))
            residents = [
                Resident(
                    household=household,
                    name=f"压测{n}",
                    id_number=number,
                    phone=f"139{n:08d}",
                    gender="male" if int(number[16]) % 2 else "female",
                    birth_date=dt.date(
                        int(number[6:10]), int(number[10:12]), int(number[12:14])
                    ),
                )
                for n, number in enumerate(numbers)
            ]
            with override_settings(PII_ENCRYPTION_KEYS=[old_key]):
                _, seconds = _timed(
                    lambda: Resident.objects.bulk_create(residents, batch_size=5000)
                )
            result["insert_s"] = seconds
            result["insert_rows_per_s"] = round(RESIDENTS / seconds)
            mine = Resident.objects.filter(household=household)
            # The keys of the settings stay last: rows already in the database
            # (a demo) are rotated too, and counted.
            keys = [new_key, old_key, *settings.PII_ENCRYPTION_KEYS]
            with override_settings(PII_ENCRYPTION_KEYS=keys):
                read, seconds = _timed(
                    lambda: list(mine.values_list("id_number", flat=True))
                )
                assert len(read) == RESIDENTS
                result["read_all_s"] = seconds
                found, seconds = _timed(
                    lambda: Resident.objects.with_id_number(numbers[-1]).get()
                )
                assert found.id_number == numbers[-1]
                result["lookup_by_hash_ms"] = round(seconds * 1000, 2)
                counts, seconds = _timed(
                    lambda: pii.reencrypt_rows(
                        Resident,
                        fields=pii.RESIDENT_ENCRYPTED_FIELDS,
                        chunk_size=CHUNK,
                    )
                )
                result["rotate"] = counts
                result["rotate_s"] = seconds
                result["rotate_rows_per_s"] = round(counts["rewritten"] / seconds)
                counts, seconds = _timed(
                    lambda: pii.reencrypt_rows(
                        Resident,
                        fields=pii.RESIDENT_ENCRYPTED_FIELDS,
                        chunk_size=CHUNK,
                    )
                )
                result["rerun"] = counts
                result["rerun_s"] = seconds
            result["peak_rss_mb"] = round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            )
            raise Rollback
    except Rollback:
        pass
    print(json.dumps(result))


if __name__ == "__main__":
    main()
