"""Ticket numbers from one sequence a year on PostgreSQL (tickets.services.numbers):
each year with a counter row gets its sequence, starting after the row's last
number, and so does the current year. Later years get theirs when their first
number is taken. SQLite keeps the counter rows."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import migrations

PREFIX = "tickets_number_"


def counters_to_sequences(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    Counter = apps.get_model("tickets", "TicketNumberCounter")
    starts = dict(Counter.objects.values_list("year", "last"))
    this_year = dt.datetime.now(ZoneInfo("Asia/Shanghai")).year
    starts.setdefault(this_year, 0)
    with connection.cursor() as cursor:
        for year, last in sorted(starts.items()):
            name = connection.ops.quote_name(f"{PREFIX}{int(year):d}")
            cursor.execute(
                f"CREATE SEQUENCE IF NOT EXISTS {name} AS bigint START WITH %s",
                [int(last) + 1],
            )


def sequences_to_counters(apps, schema_editor):
    """Back: each sequence's last number into its counter row, then dropped."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    Counter = apps.get_model("tickets", "TicketNumberCounter")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sequencename, last_value FROM pg_sequences"
            " WHERE schemaname = current_schema() AND sequencename LIKE %s",
            [PREFIX + "%"],
        )
        for name, last in cursor.fetchall():
            year = int(name.removeprefix(PREFIX))
            if last is not None:
                Counter.objects.update_or_create(year=year, defaults={"last": last})
            cursor.execute(f"DROP SEQUENCE {connection.ops.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0018_ticket_overdue_district_index")]

    operations = [
        migrations.RunPython(counters_to_sequences, sequences_to_counters),
    ]
