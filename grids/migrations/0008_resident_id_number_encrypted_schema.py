"""Personal data at rest, step 1 of 3: the ID-card number column becomes text
(for the Fernet token) without its unique index, and the keyed-hash column is
added, empty. Step 2 encrypts the rows; step 3 makes the hash unique."""

from django.db import migrations

import grids.fields
import grids.validators


class Migration(migrations.Migration):

    dependencies = [
        ("grids", "0007_auditentry_region"),
    ]

    operations = [
        migrations.AlterField(
            model_name="resident",
            name="id_number",
            field=grids.fields.EncryptedCharField(
                max_length=18,
                validators=[grids.validators.validate_id_number],
                verbose_name="ID-card number",
            ),
        ),
        migrations.AddField(
            model_name="resident",
            name="id_number_hash",
            field=grids.fields.BlindIndexField(
                blank=True,
                null=True,
                source="id_number",
                verbose_name="ID-card number hash",
            ),
        ),
    ]
