"""Two things of the scale work (issue 10), one migration:

1. The region tree's version (``tickets.versions``): a one-row table that any
   change to the tree (a node added, removed, moved or its level changed, in any
   process or in SQL) sets to a new value of a sequence in the changing
   transaction, so that the paths ``tickets.places`` keeps per process are used
   only while the tree is as it was read.

2. The ticket table's indexes reviewed for escalation's UPDATE (which is a HOT
   update, writing no index entry, only when its row's page has room for the new
   version; otherwise it writes an entry in every index): five indexes no query
   uses are dropped (docs/architecture.md, "Ticket indexes": the
   ``varchar_pattern_ops`` copies of ``number``, ``hotline_number`` and
   ``deadline_class``, and the foreign-key indexes of ``deadline_class`` and
   ``handling_region``), the two unique numbers become named constraints (the
   same unique index, renamed: no rebuild), and new pages keep 30 % free
   (``fillfactor = 70``, was 90) so that the escalation of the tickets of one
   page finds room there. Existing pages keep their fill until rewritten
   (``VACUUM FULL`` or ``pg_repack``, in a maintenance window: operations.md);
   new tickets, the ones that escalate, fill new pages.
"""

import django.db.models.deletion
from django.db import migrations, models

import tickets.models

# A statement trigger: a move or a rebuild that rewrites thousands of nodes
# bumps the version once. ``UPDATE OF`` fires when the statement sets one of
# the tree's columns (Django's full save does; a rename through ``update_fields``
# or the recount of households does not).
CREATE = [
    "CREATE SEQUENCE tickets_region_version_seq",
    "CREATE TABLE tickets_region_version ("
    " id smallint PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)",
    "INSERT INTO tickets_region_version (id, version)"
    " VALUES (1, nextval('tickets_region_version_seq'))",
    "CREATE FUNCTION tickets_region_bump() RETURNS trigger AS $$"
    " BEGIN UPDATE tickets_region_version"
    " SET version = nextval('tickets_region_version_seq') WHERE id = 1;"
    " RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER grids_region_tickets_bump AFTER INSERT OR DELETE OR TRUNCATE"
    " OR UPDATE OF level, parent_id, tree_id, lft, rght ON grids_region"
    " FOR EACH STATEMENT EXECUTE FUNCTION tickets_region_bump()",
]
DROP = [
    "DROP TRIGGER grids_region_tickets_bump ON grids_region",
    "DROP FUNCTION tickets_region_bump()",
    "DROP TABLE tickets_region_version",
    "DROP SEQUENCE tickets_region_version_seq",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


FILLFACTOR, OLD_FILLFACTOR = 70, 90
# Django's names (a hash of table and column): the same on every database.
DROPPED_FK_INDEXES = (
    "tickets_ticket_deadline_class_876511d1",
    "tickets_ticket_deadline_class_876511d1_like",
    "tickets_ticket_handling_region_id_a5437255",
)
UNIQUE = {
    "number": "ticket_number_unique",
    "hotline_number": "ticket_hotline_number_unique",
}


def _unique_constraint(cursor, column):
    """The name of the one-column UNIQUE constraint on ``column`` (PostgreSQL
    named it ``tickets_ticket_<column>_key`` when ``unique=True`` added it)."""
    cursor.execute(
        "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a"
        " ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
        " WHERE c.conrelid = 'tickets_ticket'::regclass AND c.contype = 'u'"
        " AND array_length(c.conkey, 1) = 1 AND a.attname = %s",
        [column],
    )
    row = cursor.fetchone()
    return row[0] if row else None


def named_unique_numbers(apps, schema_editor):
    """``unique=True`` -> a named UniqueConstraint, on PostgreSQL without a
    rebuild: the ``_like`` index goes, the constraint (and its index) is
    renamed. Elsewhere (SQLite) the column's own UNIQUE stays: the same rule."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for column, name in UNIQUE.items():
            cursor.execute(
                f"DROP INDEX IF EXISTS tickets_ticket_{column}_"
                f"{_like_suffix(column)}_like"
            )
            old = _unique_constraint(cursor, column)
            if old and old != name:
                cursor.execute(
                    f'ALTER TABLE tickets_ticket RENAME CONSTRAINT "{old}" TO "{name}"'
                )


def unnamed_unique_numbers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for column, name in UNIQUE.items():
            cursor.execute(
                f'ALTER TABLE tickets_ticket RENAME CONSTRAINT "{name}"'
                f' TO "tickets_ticket_{column}_key"'
            )
            cursor.execute(
                f"CREATE INDEX tickets_ticket_{column}_{_like_suffix(column)}_like"
                f" ON tickets_ticket ({column} varchar_pattern_ops)"
            )


def _like_suffix(column):
    # Django's name for the pattern index: a hash of the table and column.
    from django.db.backends.utils import names_digest

    return names_digest("tickets_ticket", column, length=8)


def lower_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE tickets_ticket SET (fillfactor = {FILLFACTOR})"
        )


def restore_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE tickets_ticket SET (fillfactor = {OLD_FILLFACTOR})"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("grids", "0017_historicalhousehold_resident_count"),
        ("tickets", "0013_ticket_indicator_columns_backfill"),
    ]

    operations = [
        migrations.RunPython(create, drop),
        migrations.SeparateDatabaseAndState(
            # Only the indexes go: Django's AlterField would also drop and
            # re-add the foreign keys, checking every row again.
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="deadline_class",
                    field=tickets.models.DeadlineClassField(
                        db_column="deadline_class",
                        db_index=False,
                        default="general",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tickets.handlinglimit",
                        verbose_name="deadline class",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="handling_region",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="handled_tickets",
                        to="grids.region",
                        verbose_name="handling community",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [f"DROP INDEX IF EXISTS {name}" for name in DROPPED_FK_INDEXES],
                    [
                        "CREATE INDEX tickets_ticket_deadline_class_876511d1"
                        " ON tickets_ticket (deadline_class)",
                        "CREATE INDEX tickets_ticket_handling_region_id_a5437255"
                        " ON tickets_ticket (handling_region_id)",
                    ],
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="hotline_number",
                    field=models.CharField(
                        blank=True,
                        max_length=40,
                        null=True,
                        verbose_name="12345 ticket number",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="number",
                    field=models.CharField(
                        blank=True,
                        editable=False,
                        max_length=20,
                        null=True,
                        verbose_name="ticket number",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="ticket",
                    constraint=models.UniqueConstraint(
                        fields=("number",), name="ticket_number_unique"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="ticket",
                    constraint=models.UniqueConstraint(
                        fields=("hotline_number",), name="ticket_hotline_number_unique"
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(named_unique_numbers, unnamed_unique_numbers)
            ],
        ),
        migrations.RunPython(lower_fillfactor, restore_fillfactor),
    ]
