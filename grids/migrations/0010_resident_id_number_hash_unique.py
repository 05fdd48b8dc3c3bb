"""Personal data at rest, step 3 of 3: every row has its keyed hash; it is
required and unique (one resident per ID-card number)."""

from django.db import migrations, models

import grids.fields


class Migration(migrations.Migration):

    dependencies = [
        ("grids", "0009_resident_id_number_encrypt_rows"),
    ]

    operations = [
        migrations.AlterField(
            model_name="resident",
            name="id_number_hash",
            field=grids.fields.BlindIndexField(
                blank=True, source="id_number", verbose_name="ID-card number hash"
            ),
        ),
        migrations.AddConstraint(
            model_name="resident",
            constraint=models.UniqueConstraint(
                fields=("id_number_hash",), name="resident_unique_id_number"
            ),
        ),
    ]
