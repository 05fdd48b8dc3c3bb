"""Fill the scope columns of the tickets already there (``tickets.places``), in
chunks of 20,000 ids, each committed before the next (the migration is not one
transaction: a table of millions of tickets is never locked whole); and leave a
tenth of each new page free so that the updates the jobs make (escalation,
reminders) stay on the page (HOT updates)."""

from django.db import migrations, transaction

CHUNK = 20_000

# ``tickets.places.region_map_sql()`` as of this migration: each region with the
# ids of its district, street, community and grid (itself included).
REGION_MAP = (
    "SELECT r.id AS region_id,"
    " max(a.id) FILTER (WHERE a.level = 'district') AS district,"
    " max(a.id) FILTER (WHERE a.level = 'street') AS street,"
    " max(a.id) FILTER (WHERE a.level = 'community') AS community,"
    " max(a.id) FILTER (WHERE a.level = 'grid') AS grid"
    " FROM grids_region r JOIN grids_region a ON a.tree_id = r.tree_id"
    " AND a.lft <= r.lft AND a.rght >= r.rght GROUP BY r.id"
)

# ``tickets.places.refresh_scope_columns_sql`` over an id range.
FILL = (
    "UPDATE tickets_ticket t SET place_district_id = p.district,"
    " place_street_id = p.street, place_community_id = p.community,"
    " place_grid_id = p.grid,"
    " unit_district_id = CASE WHEN u.district IS DISTINCT FROM p.district"
    " THEN u.district END,"
    " unit_street_id = CASE WHEN u.street IS DISTINCT FROM p.street"
    " THEN u.street END,"
    " unit_community_id = CASE WHEN u.community IS DISTINCT FROM p.community"
    " THEN u.community END,"
    " unit_grid_id = CASE WHEN u.grid IS DISTINCT FROM p.grid THEN u.grid END"
    " FROM tickets_ticket t2 JOIN tickets_scope_map p ON p.region_id = t2.region_id"
    " LEFT JOIN tickets_scope_map u ON u.region_id = t2.handling_region_id"
    " WHERE t2.id = t.id AND t2.id BETWEEN %s AND %s"
)


def fill(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE tickets_ticket SET (fillfactor = 90)")
        cursor.execute("SELECT min(id), max(id) FROM tickets_ticket")
        low, high = cursor.fetchone()
        if low is None:
            return
        cursor.execute(
            f"CREATE TEMPORARY TABLE tickets_scope_map AS {REGION_MAP}"
        )
        cursor.execute("ALTER TABLE tickets_scope_map ADD PRIMARY KEY (region_id)")
        for start in range(low, high + 1, CHUNK):
            with transaction.atomic(using=connection.alias):
                cursor.execute(FILL, [start, start + CHUNK - 1])
        cursor.execute("DROP TABLE tickets_scope_map")
        cursor.execute("ANALYZE tickets_ticket")


def unfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("ALTER TABLE tickets_ticket RESET (fillfactor)")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0009_ticket_scope_columns_and_index_review")]

    operations = [migrations.RunPython(fill, unfill)]
