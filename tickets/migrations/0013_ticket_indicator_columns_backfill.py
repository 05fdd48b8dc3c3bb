"""Fill the indicator columns of the tickets already there from their event log
(set-based, in chunks of 20,000 ids, each committed before the next), and the
closing level of closed tickets from their handling unit and handler: the same
values the services write (``tickets/services``; tests/tickets/
test_indicator_columns.py compares them)."""

from django.db import migrations, transaction

CHUNK = 20_000

# First 派单, first 接单 (with the 做单 deadline it set), 及时签收 (the first 接单
# at or before the deadline of the 待接单 stage it ended: the last event before
# it that left the ticket dispatched), first 做单, and the 返工 count.
FILL_FROM_EVENTS = """
UPDATE tickets_ticket t SET
    dispatched_at = d.at,
    accepted_at = a.at,
    handling_due_at = a.deadline,
    accepted_on_time = CASE WHEN a.at IS NULL THEN NULL
        ELSE (w.deadline IS NULL OR a.at <= w.deadline) END,
    handled_at = h.at,
    rework_count = COALESCE(r.n, 0)
FROM tickets_ticket t2
LEFT JOIN LATERAL (
    SELECT e.at FROM tickets_ticketevent e
    WHERE e.ticket_id = t2.id AND e.action = 'dispatch'
    ORDER BY e.at, e.id LIMIT 1
) d ON TRUE
LEFT JOIN LATERAL (
    SELECT e.id, e.at, e.deadline FROM tickets_ticketevent e
    WHERE e.ticket_id = t2.id AND e.action = 'accept'
    ORDER BY e.at, e.id LIMIT 1
) a ON TRUE
LEFT JOIN LATERAL (
    SELECT e.deadline FROM tickets_ticketevent e
    WHERE e.ticket_id = t2.id AND e.to_stage = 'dispatched'
      AND (e.at, e.id) < (a.at, a.id)
    ORDER BY e.at DESC, e.id DESC LIMIT 1
) w ON TRUE
LEFT JOIN LATERAL (
    SELECT e.at FROM tickets_ticketevent e
    WHERE e.ticket_id = t2.id AND e.action = 'handle'
    ORDER BY e.at, e.id LIMIT 1
) h ON TRUE
LEFT JOIN LATERAL (
    SELECT count(*) AS n FROM tickets_ticketevent e
    WHERE e.ticket_id = t2.id AND e.action = 'rework'
) r ON TRUE
WHERE t2.id = t.id AND t2.id BETWEEN %s AND %s
"""

# ``tickets.services.common.closing_level`` in SQL.
FILL_CLOSING_LEVEL = """
UPDATE tickets_ticket t SET closing_level = CASE
    WHEN lvl.level IN ('grid', 'building') THEN 'grid'
    WHEN lvl.level = 'community' THEN
        CASE WHEN u.role = 'grid_worker' THEN 'grid' ELSE 'community' END
    WHEN lvl.level IN ('street', 'area') THEN 'street'
    ELSE 'above' END
FROM tickets_ticket t2
LEFT JOIN tickets_department dep ON dep.id = t2.handling_department_id
LEFT JOIN grids_region dr ON dr.id = dep.region_id
LEFT JOIN grids_region hr ON hr.id = t2.handling_region_id
LEFT JOIN grids_region pr ON pr.id = t2.region_id
LEFT JOIN grids_user u ON u.id = t2.handler_id
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN t2.handling_department_id IS NOT NULL THEN COALESCE(dr.level, 'street')
        WHEN t2.handling_region_id IS NOT NULL THEN hr.level
        ELSE pr.level END AS level
) lvl
WHERE t2.id = t.id AND t2.stage = 'closed' AND t2.id BETWEEN %s AND %s
"""


def fill(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM tickets_ticket")
        low, high = cursor.fetchone()
        if low is None:
            return
        for start in range(low, high + 1, CHUNK):
            with transaction.atomic(using=connection.alias):
                cursor.execute(FILL_FROM_EVENTS, [start, start + CHUNK - 1])
                cursor.execute(FILL_CLOSING_LEVEL, [start, start + CHUNK - 1])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0012_ticket_indicator_columns")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
