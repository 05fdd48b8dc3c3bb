"""The ID-card number at rest (grids/pii.py, grids/fields.py): encrypted in the
table, unique and found through its keyed hash, existing rows migrated, keys
rotated by ``pii_rotate_keys``."""

import hashlib
import importlib
import io

import pytest
import tablib
from cryptography.fernet import Fernet
from django.apps import apps as global_apps
from django.core.exceptions import FieldError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from grids import pii, services
from grids.errors import Conflict
from grids.models import Resident
from grids.resources import ResidentResource, import_dataset, import_errors
from tests.grids.factories import HouseholdFactory, ResidentFactory, next_id_number

pytestmark = pytest.mark.django_db

FIELDS = pii.RESIDENT_ENCRYPTED_FIELDS


def _raw_rows():
    """Every cell of the resident table, as a database dump would have it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM grids_resident ORDER BY id")
        return cursor.fetchall()


def _raw_id_number(pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM grids_resident WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_round_trip_and_the_table_holds_no_plaintext(tree, community_staff):
    household = HouseholdFactory(region=tree["grids"][0])
    number = next_id_number()
    resident = services.resident_create(
        actor=community_staff,
        household=household,
        name="张三",
        id_number=number,
        phone="13912345678",
    )
    stored = Resident.objects.get(pk=resident.pk)
    assert (stored.id_number, stored.phone) == (number, "13912345678")
    dump = repr(_raw_rows())
    assert number not in dump
    assert "12345678" not in dump
    assert number[:14] not in dump  # not even the birth-date part
    raw = _raw_id_number(resident.pk)
    assert raw.startswith(pii.TOKEN_PREFIX)
    assert pii.decrypt(raw) == number
    # The hash is keyed: not the plain SHA-256 anyone could compute.
    stored = Resident.objects.values_list("id_number_hash", flat=True).get()
    assert stored == pii.blind_index(number)
    assert stored != hashlib.sha256(number.encode()).hexdigest()


def test_two_encryptions_of_one_number_differ():
    number = next_id_number()
    assert pii.encrypt(number) != pii.encrypt(number)


def test_lookups_by_the_encrypted_column_are_refused_and_go_through_the_hash(tree):
    resident = ResidentFactory(household__region=tree["grids"][0])
    with pytest.raises(FieldError):
        Resident.objects.filter(id_number=resident.id_number).exists()
    with pytest.raises(FieldError):
        Resident.objects.filter(id_number__startswith="1101").exists()
    lowered = resident.id_number.lower()  # an x check digit typed in lower case
    assert Resident.objects.with_id_number(lowered).get() == resident
    assert Resident.objects.with_id_number(f" {resident.id_number} ").get() == resident
    assert not Resident.objects.with_id_number(next_id_number()).exists()
    assert not Resident.objects.with_id_number("").exists()


def test_duplicate_number_clashes_through_the_hash(tree, community_staff):
    household = HouseholdFactory(region=tree["grids"][0])
    number = next_id_number()
    services.resident_create(
        actor=community_staff, household=household, name="甲", id_number=number
    )
    # Found by validation (the hash is set in clean()) …
    with pytest.raises(Conflict):
        services.resident_create(
            actor=community_staff, household=household, name="乙", id_number=number
        )
    # … and by the database, for a writer that skips validation (bulk insert).
    with pytest.raises(IntegrityError), transaction.atomic():
        Resident.objects.bulk_create(
            [
                Resident(
                    household=household,
                    name="丙",
                    id_number=number,
                    gender="male",
                    birth_date="1990-01-01",
                )
            ]
        )
    assert Resident.objects.count() == 1


def test_import_matches_an_existing_resident_by_the_hash(admin_user, tree):
    household = HouseholdFactory(region=tree["grids"][0], address="幸福路1号")
    resident = ResidentFactory(household=household, name="旧名")
    grid = household.region
    grid.code = "370102001001001"
    grid.save(update_fields=["code"])
    data = tablib.Dataset(
        [grid.code, "幸福路1号", "新名", resident.id_number, "", "户主", "户籍人口"],
        headers=[
            "region_code",
            "address",
            "name",
            "id_number",
            "phone",
            "relationship",
            "residence_type",
        ],
    )
    result = import_dataset(
        actor=admin_user, resource_class=ResidentResource, dataset=data
    )
    assert not import_errors(result)
    assert Resident.objects.count() == 1
    resident.refresh_from_db()
    assert resident.name == "新名"


def _migration(name):
    return importlib.import_module(f"grids.migrations.{name}")


ENCRYPT_ID_NUMBERS = "0009_resident_id_number_encrypt_rows"
ENCRYPT_PHONES = "0013_resident_phone_encrypt_rows"


def test_migrations_encrypt_existing_plaintext_rows(tree):
    """Rows stored before encryption (plain number and phone, no hash) are
    encrypted and hashed by the data migrations, in chunks; a second run
    changes nothing."""
    residents = ResidentFactory.create_batch(5, household__region=tree["grids"][0])
    plain = {r.pk: (r.id_number, r.phone) for r in residents}
    with connection.cursor() as cursor:
        for pk, (number, phone) in plain.items():
            cursor.execute(
                "UPDATE grids_resident SET id_number = %s, phone = %s, "
                "id_number_hash = %s WHERE id = %s",
                [number, phone if pk % 2 else "", f"legacy-{pk}", pk],
            )
    assert all(n in repr(_raw_rows()) for n, _ in plain.values())

    for name in (ENCRYPT_ID_NUMBERS, ENCRYPT_PHONES):
        module = _migration(name)
        module.CHUNK, chunk = 2, module.CHUNK
        try:
            module.encrypt_rows(global_apps, None)
        finally:
            module.CHUNK = chunk
    dump = repr(_raw_rows())
    for pk, (number, phone) in plain.items():
        assert number not in dump and phone not in dump
        resident = Resident.objects.get(pk=pk)
        assert resident.id_number == number
        assert resident.phone == (phone if pk % 2 else "")
        assert resident.id_number_hash == pii.blind_index(number)
    tokens = {pk: _raw_id_number(pk) for pk in plain}
    counts = pii.reencrypt_rows(Resident, fields=FIELDS, allow_plaintext=True)
    assert counts == {"checked": 5, "rewritten": 0}
    assert tokens == {pk: _raw_id_number(pk) for pk in plain}


def test_migrations_reversed_restore_plaintext(tree):
    resident = ResidentFactory(household__region=tree["grids"][0])
    for name in (ENCRYPT_PHONES, ENCRYPT_ID_NUMBERS):
        _migration(name).decrypt_rows(global_apps, None)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, phone FROM grids_resident WHERE id = %s", [resident.pk]
        )
        assert cursor.fetchone() == (resident.id_number, resident.phone)


def test_rotation_re_encrypts_under_the_new_key(tree, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PII_ENCRYPTION_KEYS = [old_key]
    residents = ResidentFactory.create_batch(5, household__region=tree["grids"][0])
    numbers = {r.pk: r.id_number for r in residents}

    # The new key goes first; the old one still decrypts during the rotation.
    settings.PII_ENCRYPTION_KEYS = [new_key, old_key]
    assert {r.pk: r.id_number for r in Resident.objects.all()} == numbers
    assert not any(pii.is_current(_raw_id_number(pk)) for pk in numbers)
    new_one = ResidentFactory(household__region=tree["grids"][0])
    assert pii.is_current(_raw_id_number(new_one.pk))

    call_command("pii_rotate_keys", chunk_size=2, stdout=io.StringIO())
    assert all(pii.is_current(_raw_id_number(pk)) for pk in numbers)
    tokens = {pk: _raw_id_number(pk) for pk in numbers}
    # Idempotent: a second run rewrites nothing.
    assert pii.reencrypt_rows(Resident, fields=FIELDS) == {
        "checked": 6,
        "rewritten": 0,
    }
    assert tokens == {pk: _raw_id_number(pk) for pk in numbers}

    # The old key can go: every row opens with the new one alone.
    settings.PII_ENCRYPTION_KEYS = [new_key]
    assert {
        r.pk: r.id_number for r in Resident.objects.filter(pk__in=numbers)
    } == numbers


def test_rotation_stopped_half_way_resumes(tree, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PII_ENCRYPTION_KEYS = [old_key]
    ResidentFactory.create_batch(5, household__region=tree["grids"][0])
    settings.PII_ENCRYPTION_KEYS = [new_key, old_key]

    class Stop(Exception):
        pass

    def stop_after_first_chunk(counts):
        raise Stop

    with pytest.raises(Stop):
        pii.reencrypt_rows(
            Resident, fields=FIELDS, chunk_size=2, progress=stop_after_first_chunk
        )
    raws = [_raw_id_number(pk) for pk in Resident.objects.values_list("pk", flat=True)]
    assert [pii.is_current(t) for t in raws] == [True, True, False, False, False]
    assert pii.reencrypt_rows(Resident, fields=FIELDS, chunk_size=2) == {
        "checked": 5,
        "rewritten": 3,
    }


def test_rotation_recomputes_hashes_under_a_new_hash_key(tree, settings):
    resident = ResidentFactory(household__region=tree["grids"][0])
    settings.PII_HASH_KEY = "another-hash-key-for-this-test"
    assert not Resident.objects.with_id_number(resident.id_number).exists()
    call_command("pii_rotate_keys", stdout=io.StringIO())
    assert Resident.objects.with_id_number(resident.id_number).get() == resident


def test_rotation_refuses_when_a_key_was_removed_too_early(tree, settings):
    ResidentFactory(household__region=tree["grids"][0])
    settings.PII_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="PII_ENCRYPTION_KEYS"):
        call_command("pii_rotate_keys", stdout=io.StringIO())
