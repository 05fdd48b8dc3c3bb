"""``Whistle.topic_id`` and ``MicroProject.topic_id`` were plain integers (the
topics lived on another branch); they become foreign keys to ``Topic`` on the
same column, ``topic_id``, so the stored values stay. A value naming no topic
(there should be none) is cleared first, else the constraint could not be
added."""

import django.db.models.deletion
from django.db import migrations, models


def clear_dangling(apps, schema_editor):
    Topic = apps.get_model("partyorg", "Topic")
    for name in ("Whistle", "MicroProject"):
        model = apps.get_model("partyorg", name)
        model.objects.filter(topic_id__isnull=False).exclude(
            topic_id__in=Topic.objects.values("pk")
        ).update(topic_id=None)


class Migration(migrations.Migration):
    dependencies = [
        ("partyorg", "0005_merge_deliberation_and_whistles"),
    ]

    operations = [
        migrations.RunPython(clear_dangling, migrations.RunPython.noop),
        # 1. Name the column explicitly (no change in the database) ...
        migrations.AlterField(
            model_name="whistle",
            name="topic_id",
            field=models.PositiveBigIntegerField(
                blank=True, db_column="topic_id", null=True, verbose_name="topic"
            ),
        ),
        migrations.AlterField(
            model_name="microproject",
            name="topic_id",
            field=models.PositiveBigIntegerField(
                blank=True, db_column="topic_id", null=True, verbose_name="topic"
            ),
        ),
        # 2. ... so renaming the field keeps the column ...
        migrations.RenameField(
            model_name="whistle", old_name="topic_id", new_name="topic"
        ),
        migrations.RenameField(
            model_name="microproject", old_name="topic_id", new_name="topic"
        ),
        # 3. ... and the field becomes a foreign key on the same column, with
        # its values (bigint, the constraint and an index added).
        migrations.AlterField(
            model_name="whistle",
            name="topic",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="whistles",
                to="partyorg.topic",
                verbose_name="topic",
            ),
        ),
        migrations.AlterField(
            model_name="microproject",
            name="topic",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="micro_projects",
                to="partyorg.topic",
                verbose_name="topic",
            ),
        ),
    ]
