"""Personal data at rest, step 2 of 3: encrypt every stored ID-card number under
the current key and fill its keyed hash (``grids.pii.reencrypt_rows``).

Not atomic: each chunk of rows commits on its own, so a long run stopped
half-way is resumed by migrating again (encrypted rows are skipped). Backwards,
the numbers are decrypted again (with the keys of the settings)."""

from django.db import migrations, transaction
from django.db.models import TextField
from django.db.models.functions import Cast

CHUNK = 500


def encrypt_rows(apps, schema_editor):
    from grids.pii import reencrypt_rows

    reencrypt_rows(
        apps.get_model("grids", "Resident"), chunk_size=CHUNK, allow_plaintext=True
    )


def decrypt_rows(apps, schema_editor):
    from grids.pii import TOKEN_PREFIX, decrypt

    Resident = apps.get_model("grids", "Resident")
    table = Resident._meta.db_table
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                Resident._base_manager.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .annotate(_raw=Cast("id_number", output_field=TextField()))
                .values_list("pk", "_raw")[:CHUNK]
            )
            if not rows:
                break
            with schema_editor.connection.cursor() as cursor:
                for pk, raw in rows:
                    if raw and raw.startswith(TOKEN_PREFIX):
                        # The hash column goes with step 1's reversal.
                        cursor.execute(
                            f"UPDATE {table} SET id_number = %s WHERE id = %s",  # noqa: S608
                            [decrypt(raw), pk],
                        )
            last_pk = rows[-1][0]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("grids", "0008_resident_id_number_encrypted_schema"),
    ]

    operations = [
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
    ]
