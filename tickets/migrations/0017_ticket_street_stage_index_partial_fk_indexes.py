"""The ticket table's indexes, second review (issue 10):

1. ``ticket_street_stage_recv`` (``place_street_id, stage, received_at DESC, id
   DESC``): a street's list filtered by stage. Without it the planner walked
   ``ticket_received_desc`` past ~15,000 rows for a street's ``?stage=accepted``
   page (a 1/1,000 share), and ~97,000 rows at 400,000 tickets for
   ``?stage=closed`` (the closed tickets are the old ones: the newest-first
   walk passes every open ticket first); with it, the bitmap arm of the scope's
   OR reads the street's rows of that stage only. ``ticket_street_received``
   stays: a street's rows in list order when the street is the only place
   condition (a supervisor's region filter set to a street: 50 rows read
   instead of every row of the street, measured; docs/scaling.md).

2. The indexes of four foreign keys that are empty on most rows, and always on
   a new ticket (handler, responsible leader, handling department, merged
   into), become partial (``IS NOT NULL``): an insert, and an update that is
   not HOT (escalation's, when the row's page is full), writes no entry there
   for such a row, and the indexes are smaller. Every query on them compares
   with a value, which implies NOT NULL, so each still serves its query.
   Django's full indexes are dropped by name (the same name on every database)
   without ``AlterField``'s drop and re-check of the foreign keys.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Django's names for the full indexes (a hash of table and column): the same
# on PostgreSQL and SQLite.
FULL_FK_INDEXES = {
    "handler_id": "tickets_ticket_handler_id_ded0cc37",
    "responsible_leader_id": "tickets_ticket_responsible_leader_id_ea6cb5ea",
    "handling_department_id": "tickets_ticket_handling_department_id_80d6e5e9",
    "merged_into_id": "tickets_ticket_merged_into_id_3a36ad40",
}


class Migration(migrations.Migration):
    dependencies = [
        ("grids", "0018_api_tokens_and_api_idempotency"),
        ("tickets", "0016_merge_scale_index_review"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="handler",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="handled_tickets",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="handler",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="handling_department",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets",
                        to="tickets.department",
                        verbose_name="handling department",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="merged_into",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="merged_tickets",
                        to="tickets.ticket",
                        verbose_name="merged into",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="responsible_leader",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="led_tickets",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="responsible leader",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [f"DROP INDEX IF EXISTS {name}" for name in FULL_FK_INDEXES.values()],
                    [
                        f"CREATE INDEX {name} ON tickets_ticket ({column})"
                        for column, name in FULL_FK_INDEXES.items()
                    ],
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                models.F("place_street_id"),
                models.F("stage"),
                models.OrderBy(models.F("received_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="ticket_street_stage_recv",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("handler__isnull", False)),
                fields=["handler"],
                name="ticket_handler",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("responsible_leader__isnull", False)),
                fields=["responsible_leader"],
                name="ticket_responsible_leader",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("handling_department__isnull", False)),
                fields=["handling_department"],
                name="ticket_handling_department",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("merged_into__isnull", False)),
                fields=["merged_into"],
                name="ticket_merged_into",
            ),
        ),
    ]
