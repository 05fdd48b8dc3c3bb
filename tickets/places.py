"""The scope columns of a ticket: where its place and its handling unit lie, as
plain indexed columns that ``querysets.ticket_scope_q`` compares with one id.

For each scope level (district, street, community, grid) a ticket keeps the node
of that level on its place's path (``place_<level>_id``; the place itself when it
is of that level; empty when the place lies above that level), and the same for
its handling unit where that differs from the place's (``unit_<level>_id``). A
node lies in the subtree of a node ``S`` of level ``L`` exactly when ``S`` is its
``L`` node, so "place or handling unit in the user's subtree" becomes
``place_L = S OR unit_L = S``: two equalities the planner estimates from its
statistics, served by the list indexes (see ``Ticket.Meta.indexes``), instead of
a list of thousands of region ids or an MPTT range join.

``Ticket.save`` sets the columns whenever ``region`` or ``handling_region`` is
written (every service saves through it); a region moved in the tree refreshes
the columns of its tickets (``refresh_scope_columns``, on MPTT's ``node_moved``).
"""

import functools

from django.db import connection

from grids.choices import RegionLevel

# The levels that have columns; a scope of another level (an area, a building)
# falls back to the MPTT range rule (small subtrees).
SCOPE_LEVELS = (
    RegionLevel.DISTRICT,
    RegionLevel.STREET,
    RegionLevel.COMMUNITY,
    RegionLevel.GRID,
)
PLACE_COLUMNS = {level: f"place_{level}_id" for level in SCOPE_LEVELS}
UNIT_COLUMNS = {level: f"unit_{level}_id" for level in SCOPE_LEVELS}
SCOPE_COLUMNS = (*PLACE_COLUMNS.values(), *UNIT_COLUMNS.values())


def level_nodes(region) -> dict[str, int]:
    """{level: id} of the scope-level nodes on ``region``'s path, itself included.

    Cached per process by the node's id and the region tree's version
    (``tickets.versions``: a trigger gives the tree a new version whenever a
    node is added, removed, moved or its level changes, in whatever process or
    SQL session), so an entry is used only while the tree is as it was read; the
    query reads the path from the table, not from the instance. Costs the
    version read (none inside ``versions.pinned()`` once read).
    """
    if region is None or region.pk is None:
        return {}
    from . import versions

    version = versions.current().regions
    if version is None:  # no version kept (not PostgreSQL): read every time
        return dict(_read_level_nodes(region.pk))
    return dict(_level_nodes(region.pk, version))


@functools.lru_cache(maxsize=65536)
def _level_nodes(pk, version) -> tuple[tuple[str, int], ...]:
    return _read_level_nodes(pk)


def _read_level_nodes(pk) -> tuple[tuple[str, int], ...]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.level, a.id FROM grids_region a JOIN grids_region r"
            " ON a.tree_id = r.tree_id AND a.lft <= r.lft AND a.rght >= r.rght"
            # One placeholder per level: a tuple parameter is PostgreSQL's only.
            " WHERE r.id = %s AND a.level IN ("
            + ", ".join(["%s"] * len(SCOPE_LEVELS))
            + ")",
            [pk, *(str(level) for level in SCOPE_LEVELS)],
        )
        return tuple(cursor.fetchall())


def forget_cached_places() -> None:
    """Empty the per-process cache (tests whose database is rebuilt)."""
    _level_nodes.cache_clear()


def scope_column_values(region, handling_region) -> dict[str, int | None]:
    """The eight scope columns of a ticket placed at ``region`` and handled by
    ``handling_region`` (or None)."""
    place = level_nodes(region)
    unit = level_nodes(handling_region)
    values = {}
    for level in SCOPE_LEVELS:
        values[PLACE_COLUMNS[level]] = place.get(level)
        unit_node = unit.get(level)
        values[UNIT_COLUMNS[level]] = (
            unit_node if unit_node != place.get(level) else None
        )
    return values


def region_map_sql(region_condition: str = "TRUE") -> str:
    """SELECT of (region_id, district, street, community, grid) for the regions
    matching ``region_condition`` (on ``r``)."""
    levels = ", ".join(
        f"max(a.id) FILTER (WHERE a.level = '{level}') AS {level}"
        for level in SCOPE_LEVELS
    )
    return (
        f"SELECT r.id AS region_id, {levels} FROM grids_region r"
        " JOIN grids_region a ON a.tree_id = r.tree_id"
        " AND a.lft <= r.lft AND a.rght >= r.rght"
        f" WHERE {region_condition} GROUP BY r.id"
    )


def refresh_scope_columns_sql(ticket_condition: str, map_table: str = "") -> str:
    """One UPDATE setting the scope columns of the tickets matching
    ``ticket_condition`` (written on the alias ``{t}``), from ``map_table`` (a
    table of ``region_map_sql``'s rows) or else from the paths of those tickets'
    places and units. Used by the backfill migration, the move handler and the
    bench."""
    place = ", ".join(f"place_{level}_id = p.{level}" for level in SCOPE_LEVELS)
    unit = ", ".join(
        f"unit_{level}_id = CASE WHEN u.{level} IS DISTINCT FROM p.{level}"
        f" THEN u.{level} END"
        for level in SCOPE_LEVELS
    )
    if map_table:
        with_map, table = "", map_table
    else:
        matching = ticket_condition.format(t="t3")
        regions = (
            f"r.id IN (SELECT t3.region_id FROM tickets_ticket t3 WHERE {matching})"
            " OR r.id IN (SELECT t3.handling_region_id FROM tickets_ticket t3"
            f" WHERE {matching})"
        )
        with_map, table = f"WITH m AS MATERIALIZED ({region_map_sql(regions)}) ", "m"
    return (
        f"{with_map}UPDATE tickets_ticket AS t SET {place}, {unit}"
        f" FROM tickets_ticket t2 JOIN {table} p ON p.region_id = t2.region_id"
        f" LEFT JOIN {table} u ON u.region_id = t2.handling_region_id"
        f" WHERE t2.id = t.id AND ({ticket_condition.format(t='t2')})"
    )


def refresh_scope_columns(region) -> int:
    """Recompute the scope columns of every ticket placed or handled in
    ``region``'s subtree (after the subtree moved in the tree). One statement."""
    # The subtree's position read from the table (the instance may be stale).
    subtree = (
        f"SELECT s.id FROM grids_region s JOIN grids_region n ON n.id = {int(region.pk)}"
        " AND s.tree_id = n.tree_id AND s.lft >= n.lft AND s.rght <= n.rght"
    )
    condition = (
        f"{{t}}.region_id IN ({subtree}) OR {{t}}.handling_region_id IN ({subtree})"
    )
    with connection.cursor() as cursor:
        cursor.execute(refresh_scope_columns_sql(condition))
        return cursor.rowcount
