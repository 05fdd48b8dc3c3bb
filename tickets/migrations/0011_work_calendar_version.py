"""The working calendar's version: a one-row table that any change to the day or
year tables sets to a new value of a sequence, in the changing transaction
(statement triggers, TRUNCATE included), so that a process may keep the calendar
it read and check with one primary-key read that it is still current
(``tickets.workcalendar``)."""

from django.db import migrations

TABLES = ("tickets_workcalendarday", "tickets_workcalendaryear")

CREATE = [
    "CREATE SEQUENCE tickets_calendar_version_seq",
    "CREATE TABLE tickets_calendar_version ("
    " id smallint PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)",
    "INSERT INTO tickets_calendar_version (id, version)"
    " VALUES (1, nextval('tickets_calendar_version_seq'))",
    "CREATE FUNCTION tickets_calendar_bump() RETURNS trigger AS $$"
    " BEGIN UPDATE tickets_calendar_version"
    " SET version = nextval('tickets_calendar_version_seq') WHERE id = 1;"
    " RETURN NULL; END $$ LANGUAGE plpgsql",
    *(
        f"CREATE TRIGGER {table}_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
        f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION tickets_calendar_bump()"
        for table in TABLES
    ),
]
DROP = [
    *(f"DROP TRIGGER {table}_bump ON {table}" for table in TABLES),
    "DROP FUNCTION tickets_calendar_bump()",
    "DROP TABLE tickets_calendar_version",
    "DROP SEQUENCE tickets_calendar_version_seq",
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
    dependencies = [("tickets", "0010_ticket_scope_columns_backfill")]

    operations = [migrations.RunPython(create, drop)]
