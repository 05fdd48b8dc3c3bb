"""A category's and a ticket's deadline class refer to the class row, in the same
``deadline_class`` column (the codes easy/general/hard stay valid)."""

import django.db.models.deletion
from django.db import migrations

import tickets.models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0003_deadline_classes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="category",
            name="deadline_class",
            field=tickets.models.DeadlineClassField(
                db_column="deadline_class",
                default="general",
                limit_choices_to={"is_active": True, "region__isnull": True},
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tickets.handlinglimit",
                verbose_name="deadline class",
            ),
        ),
        migrations.AlterField(
            model_name="ticket",
            name="deadline_class",
            field=tickets.models.DeadlineClassField(
                db_column="deadline_class",
                default="general",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tickets.handlinglimit",
                verbose_name="deadline class",
            ),
        ),
    ]
