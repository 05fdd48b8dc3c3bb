"""Personal data at rest, step 2 of 3: encrypt every stored ID-card number under
the current key and fill its keyed hash (``grids.pii.reencrypt_rows``).

Not atomic: each chunk of rows commits on its own, so a long run stopped
half-way is resumed by migrating again (encrypted rows are skipped). Backwards,
the numbers are decrypted again (with the keys of the settings); the hash column
goes with step 1's reversal."""

from django.db import migrations

CHUNK = 500


def encrypt_rows(apps, schema_editor):
    from grids.pii import reencrypt_rows

    reencrypt_rows(
        apps.get_model("grids", "Resident"),
        fields={"id_number": "id_number_hash"},
        chunk_size=CHUNK,
        allow_plaintext=True,
    )


def decrypt_rows(apps, schema_editor):
    from grids.pii import decrypt_rows_in_place

    decrypt_rows_in_place(
        apps.get_model("grids", "Resident"), fields=["id_number"], chunk_size=CHUNK
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("grids", "0008_resident_id_number_encrypted_schema"),
    ]

    operations = [
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
    ]
