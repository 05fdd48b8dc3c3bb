"""The region tree's version (``tickets.versions``): a one-row table that any
change to the tree (a node added, removed, moved or its level changed, in any
process or in SQL) sets to a new value of a sequence in the changing
transaction, so that the paths ``tickets.places`` keeps per process are used
only while the tree is as it was read."""

from django.db import migrations

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


class Migration(migrations.Migration):
    dependencies = [
        ("grids", "0017_historicalhousehold_resident_count"),
        ("tickets", "0013_ticket_indicator_columns_backfill"),
    ]

    operations = [migrations.RunPython(create, drop)]
