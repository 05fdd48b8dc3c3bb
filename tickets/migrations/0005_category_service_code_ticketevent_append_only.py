"""Categories get a stable ``service_code`` (Open311); existing rows get a
generated one, staff may replace it. The ticket log becomes append-only on
PostgreSQL too (a trigger refuses UPDATE and DELETE)."""

from django.db import migrations, models

import tickets.models
from grids.append_only import append_only_trigger


def backfill_service_codes(apps, schema_editor):
    Category = apps.get_model("tickets", "Category")
    rows = list(Category.objects.filter(service_code__isnull=True).only("pk"))
    for row in rows:
        row.service_code = f"category-{row.pk}"
    Category.objects.bulk_update(rows, ["service_code"], batch_size=200)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0004_deadline_class_foreign_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="service_code",
            field=models.CharField(max_length=50, null=True),
        ),
        migrations.RunPython(backfill_service_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="category",
            name="service_code",
            field=models.SlugField(
                default=tickets.models.new_service_code,
                help_text="A stable code for outside systems (Open311); never reused.",
                max_length=50,
                unique=True,
                verbose_name="service code",
            ),
        ),
        append_only_trigger("tickets_ticketevent"),
    ]
