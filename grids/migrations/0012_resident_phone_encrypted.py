"""Personal data at rest: a resident's phone is stored encrypted too (the column
becomes text, for the token; an empty phone stays empty). 0013 encrypts the
rows."""

from django.db import migrations

import grids.fields
import grids.validators


class Migration(migrations.Migration):

    dependencies = [
        ("grids", "0011_personaldataaccess"),
    ]

    operations = [
        migrations.AlterField(
            model_name="resident",
            name="phone",
            field=grids.fields.EncryptedCharField(
                blank=True,
                max_length=20,
                validators=[grids.validators.validate_mainland_phone],
                verbose_name="phone",
            ),
        ),
    ]
