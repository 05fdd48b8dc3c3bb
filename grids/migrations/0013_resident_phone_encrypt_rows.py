"""Encrypt every stored resident phone under the current key, chunk by chunk
(not atomic: a run stopped half-way resumes when migrating again). Backwards,
the phones are decrypted again."""

from django.db import migrations

CHUNK = 500


def encrypt_rows(apps, schema_editor):
    from grids.pii import reencrypt_rows

    reencrypt_rows(
        apps.get_model("grids", "Resident"),
        fields={"phone": None},
        chunk_size=CHUNK,
        allow_plaintext=True,
    )


def decrypt_rows(apps, schema_editor):
    from grids.pii import decrypt_rows_in_place

    decrypt_rows_in_place(
        apps.get_model("grids", "Resident"), fields=["phone"], chunk_size=CHUNK
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("grids", "0012_resident_phone_encrypted"),
    ]

    operations = [
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
    ]
