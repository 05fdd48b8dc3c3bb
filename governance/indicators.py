"""The supervisors' indicators, per node of the Region tree and calendar month,
computed in the database: one SQL statement groups every source table by the
node (a grid, a community, a street…) whose subtree holds the row. Tickets are
grouped by their ancestor column (``place_<level>_id``, tickets.places) when the
nodes are of a level that has one, else through the MPTT range of the node;
every other table through the MPTT range. No Python loop over rows: Python only
divides the counts of each node.

A month runs from the 1st 00:00 to the next 1st 00:00 in the project's time
zone (Asia/Shanghai). Counts of a node cover its whole subtree.

Ticket indicators (DESIGN.md "Indicator formulas"; seed 004 "六单"; seed 002
"小事不出网格、大事不出社区", "接诉即办"), from the columns the ticket services
write (tickets 0012/0013):

- response rate 及时签收率 = tickets first dispatched in the month whose first
  接单 came within the 接单 limit (1 working day, seed 004) / tickets first
  dispatched in the month. Key ``response_rate``; counts ``dispatched``,
  ``accepted_in_time``.
- resolution rate 办结率 = tickets received in the month (merged duplicates
  left out) that were handled (做单 done) before the month ended / tickets
  received in the month. ``resolution_rate``; ``received``, ``resolved``.
- on-time rate 按期办结率 = tickets whose 做单 deadline (the one set at the first
  接单) falls in the month and that were handled by it / (those tickets −
  tickets suspended by an approved extension). The tickets app has no
  extensions (no 延期 request exists), so ``extensions`` is 0, stated in the
  row so the term is visible. ``on_time_rate``; ``due``, ``on_time``,
  ``extensions``.
- satisfaction rate 满意率 = (满意 + w·一般) / verdicts given (满意 + 一般 + 不满意),
  over tickets closed (考单) in the month; 未评价 is counted apart
  (``unevaluated``) and never as satisfied. ``w`` is the rule set's
  ``ordinary_weight`` (default 0.8, the weight hotline centres use most).
  ``satisfaction_rate``; ``satisfied``, ``ordinary``, ``dissatisfied``.
- rework rate 返工率 = tickets closed in the month that were sent back at least
  once (不满意 → 返工) / tickets closed in the month. ``rework_rate``.
- escalation rate 超期升级率 = closed in the month and escalated at least once
  (a stage deadline passed) / closed in the month. ``escalation_rate``.
- report-up rate 上报率 = closed in the month and reported up at least once
  (逐级上报, seed 000) / closed in the month. ``report_up_rate``.
- closure level 小事不出网格、大事不出社区: shares of the tickets closed in the
  month that closed in the grid (``grid_closure_share``) and within the
  community, grid included (``community_closure_share``); the counts per level
  are ``closed_grid``, ``closed_community``, ``closed_street``,
  ``closed_above`` (tickets.services.common.closing_level).

Grid work (seed 003 日巡查; seed 001 一户一档; seeds 000/002/003 the 300户/1000人
norm; seed 000 83% full-time; seed 003 90% party-member grid heads; DESIGN.md
支部建在网格上):

- patrol day rate = days of the month with at least one patrol, visit or diary
  entry in the subtree / days in the month. ``patrol_day_rate``;
  ``patrol_days``, ``days``.
- visit coverage = households visited (入户走访) at least once in the month /
  households registered in the subtree. ``visit_coverage``.
- grid norms: ``grids`` (active grids in the subtree), ``grids_off_norm``:
  grids whose household count is under half or over twice 300, or whose
  population is under half or over twice 1000 (the grid's own recorded
  counts); ``grids_norm_unknown``: grids without either count.
- ``grids_with_full_time``: grids with a full-time worker (专职) assigned on
  any day of the month; ``grids_with_party_head``: grids whose grid head
  assigned in the month is a party member; ``grids_with_party_org``: grids
  covered by an active grid branch or building group (partyorg's rule). For a
  grid row these are 0 or 1.

Participation (seeds 000/004 积分超市; seed 002 微心愿; seeds 000/001 双报到):

- points participation = residents with an award approved in the month /
  active residents of the subtree. ``points_participation``.
- ``wishes_posted``, ``wishes_fulfilled``: wishes posted / fulfilled
  (fulfilled or confirmed, by their fulfilment time) in the month.
- ``service_hours``: hours of 双报到 service given in the month at the
  communities of the subtree; None for a node below a community (members
  register at a community, not at a grid).

A rate whose denominator is 0 is None (no data), never 0 or 1.
"""

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from grids.choices import RegionLevel
from grids.models import Region
from grids.permissions import require_in_scope
from partyorg.choices import COVERING_TYPES
from tickets.places import PLACE_COLUMNS

from .dialect import (
    column_names,
    db_datetime,
    in_list,
    is_postgresql,
    list_param,
    local_date,
)

DEFAULT_ORDINARY_WEIGHT = Decimal("0.8")
HOUSEHOLD_NORM = 300
POPULATION_NORM = 1000

# The rates a rule set may weight: key → (better when high?, counts behind it:
# numerator, denominator). The denominator is the "count" a minimum applies to.
RATES = {
    "response_rate": (True, "accepted_in_time", "dispatched"),
    "resolution_rate": (True, "resolved", "received"),
    "on_time_rate": (True, "on_time", "due_net"),
    "satisfaction_rate": (True, "satisfaction_points", "verdicts"),
    "rework_rate": (False, "reworked", "closed"),
    "escalation_rate": (False, "escalated", "closed"),
    "report_up_rate": (False, "reported_up", "closed"),
    "grid_closure_share": (True, "closed_grid", "closed"),
    "community_closure_share": (True, "closed_within_community", "closed"),
    "patrol_day_rate": (True, "patrol_days", "days"),
    "visit_coverage": (True, "households_visited", "households"),
    "points_participation": (True, "award_residents", "residents"),
}
# The rates counted over tickets: below the rule set's minimum ticket count they
# are shrunk toward the street's mean.
TICKET_RATES = frozenset(
    {
        "response_rate",
        "resolution_rate",
        "on_time_rate",
        "satisfaction_rate",
        "rework_rate",
        "escalation_rate",
        "report_up_rate",
        "grid_closure_share",
        "community_closure_share",
    }
)


def month_start(month: dt.date) -> dt.date:
    return month.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    first = month_start(month)
    return (first + dt.timedelta(days=32)).replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    return (month_start(month) - dt.timedelta(days=1)).replace(day=1)


def _bounds(month: dt.date) -> dict:
    first, following = month_start(month), next_month(month)
    zone = timezone.get_default_timezone()
    return {
        "first": first,
        "following": following,
        "start": db_datetime(
            timezone.make_aware(dt.datetime.combine(first, dt.time()), zone)
        ),
        "end": db_datetime(
            timezone.make_aware(dt.datetime.combine(following, dt.time()), zone)
        ),
        "days": (following - first).days,
        "tz": str(zone),
    }


_IN_MONTH = "({col} >= %(start)s AND {col} < %(end)s)"


def _ticket_counts_sql(node_column: str, source: str, condition: str) -> str:
    dispatched = _IN_MONTH.format(col="t.dispatched_at")
    received = _IN_MONTH.format(col="t.received_at") + " AND t.stage <> 'merged'"
    due = _IN_MONTH.format(col="t.handling_due_at")
    closed = _IN_MONTH.format(col="t.closed_at") + " AND t.stage = 'closed'"
    return f"""
    SELECT {node_column} AS node_id,
        count(*) FILTER (WHERE {dispatched}) AS dispatched,
        count(*) FILTER (WHERE {dispatched} AND t.accepted_on_time)
            AS accepted_in_time,
        count(*) FILTER (WHERE {received}) AS received,
        count(*) FILTER (WHERE {received} AND t.handled_at < %(end)s) AS resolved,
        count(*) FILTER (WHERE {due}) AS due,
        count(*) FILTER (WHERE {due} AND t.handled_at <= t.handling_due_at)
            AS on_time,
        count(*) FILTER (WHERE {closed}) AS closed,
        count(*) FILTER (WHERE {closed} AND t.verdict = 'satisfied') AS satisfied,
        count(*) FILTER (WHERE {closed} AND t.verdict = 'ordinary') AS ordinary,
        count(*) FILTER (WHERE {closed} AND t.verdict = 'dissatisfied')
            AS dissatisfied,
        count(*) FILTER (WHERE {closed} AND t.verdict = 'unevaluated')
            AS unevaluated,
        count(*) FILTER (WHERE {closed} AND t.rework_count > 0) AS reworked,
        count(*) FILTER (WHERE {closed} AND t.escalation_level > 0) AS escalated,
        count(*) FILTER (WHERE {closed} AND t.report_up_count > 0) AS reported_up,
        count(*) FILTER (WHERE {closed} AND t.closing_level = 'grid')
            AS closed_grid,
        count(*) FILTER (WHERE {closed} AND t.closing_level = 'community')
            AS closed_community,
        count(*) FILTER (WHERE {closed} AND t.closing_level = 'street')
            AS closed_street,
        count(*) FILTER (WHERE {closed} AND t.closing_level = 'above')
            AS closed_above
    FROM {source}
    WHERE {condition} AND ({dispatched} OR {received} OR {due} OR {closed})
    GROUP BY 1
    """


TICKET_COUNTS = (
    "dispatched",
    "accepted_in_time",
    "received",
    "resolved",
    "due",
    "on_time",
    "closed",
    "satisfied",
    "ordinary",
    "dissatisfied",
    "unevaluated",
    "reworked",
    "escalated",
    "reported_up",
    "closed_grid",
    "closed_community",
    "closed_street",
    "closed_above",
)
OTHER_COUNTS = (
    "patrol_days",
    "households_visited",
    "households",
    "residents",
    "award_residents",
    "wishes_posted",
    "wishes_fulfilled",
    "grids",
    "grids_off_norm",
    "grids_norm_unknown",
    "grids_with_full_time",
    "grids_with_party_head",
    "grids_with_party_org",
    "households_recorded",
    "population_recorded",
)


# Above this many nodes the tickets are joined to the nodes (a hash join over
# one pass of the table) instead of looked up node by node in the ancestor
# column's index: at 49,000 grids the lookups read every ticket at random
# (71 s measured by bench/bench_ratings.py; the pass takes seconds).
MANY_NODES = 2000


def subtree_join() -> str:
    """Each node joined to the regions of its subtree. On PostgreSQL a LATERAL
    range scan of the (tree_id, lft) index per node: as a plain join the
    planner merges on tree_id alone and filters the ranges after (4,900 grids
    of 10 districts: 10 million rows compared, 1.8 s of the statement's 2.2 s;
    a province's 49,000 grids in 100 districts: ten times as many); ``OFFSET
    0`` keeps the subquery from being flattened back into that join. SQLite
    (no LATERAL) loops over the nodes and searches the index itself."""
    if is_postgresql():
        return (
            "nodes n CROSS JOIN LATERAL (SELECT * FROM grids_region r"
            " WHERE r.tree_id = n.tree_id AND r.lft BETWEEN n.lft AND n.rght"
            " OFFSET 0) r"
        )
    return (
        "nodes n JOIN grids_region r"
        " ON r.tree_id = n.tree_id AND r.lft BETWEEN n.lft AND n.rght"
    )


def _indicator_sql(ticket_column: str | None, many_nodes: bool = False) -> str:
    if ticket_column and many_nodes:
        tickets = _ticket_counts_sql(
            f"t.{ticket_column}",
            f"tickets_ticket t JOIN nodes tn ON tn.id = t.{ticket_column}",
            "TRUE",
        )
    elif ticket_column:
        tickets = _ticket_counts_sql(
            f"t.{ticket_column}",
            "tickets_ticket t",
            in_list(f"t.{ticket_column}", "ids"),
        )
    else:
        tickets = _ticket_counts_sql(
            "s.node_id",
            "tickets_ticket t JOIN sub s ON s.region_id = t.region_id",
            "TRUE",
        )
    ticket_columns = ", ".join(f"COALESCE(tk.{c}, 0) AS {c}" for c in TICKET_COUNTS)
    return f"""
    WITH nodes AS MATERIALIZED (
        SELECT id, tree_id, lft, rght, level FROM grids_region
        WHERE {in_list("id", "ids")}
    ),
    sub AS MATERIALIZED (
        SELECT n.id AS node_id, r.id AS region_id, r.level, r.is_active,
            r.tree_id, r.lft, r.rght, r.households_count, r.population_count
        FROM {subtree_join()}
    ),
    tk AS ({tickets}),
    pt AS (
        SELECT s.node_id,
            count(DISTINCT {local_date("p.occurred_at")}) AS patrol_days,
            count(DISTINCT p.household_id) FILTER (WHERE p.kind = 'visit')
                AS households_visited
        FROM grids_patrol p JOIN sub s ON s.region_id = p.region_id
        WHERE p.occurred_at >= %(start)s AND p.occurred_at < %(end)s
        GROUP BY 1
    ),
    hh AS (
        SELECT s.node_id, count(*) AS households
        FROM grids_household h JOIN sub s ON s.region_id = h.region_id
        GROUP BY 1
    ),
    rs AS (
        SELECT s.node_id, count(*) AS residents
        FROM grids_resident r
        JOIN grids_household h ON h.id = r.household_id
        JOIN sub s ON s.region_id = h.region_id
        WHERE r.is_active
        GROUP BY 1
    ),
    aw AS (
        SELECT s.node_id, count(DISTINCT a.resident_id) AS award_residents
        FROM points_award a
        JOIN grids_resident r ON r.id = a.resident_id
        JOIN grids_household h ON h.id = r.household_id
        JOIN sub s ON s.region_id = h.region_id
        WHERE a.status = 'approved'
            AND a.decided_at >= %(start)s AND a.decided_at < %(end)s
        GROUP BY 1
    ),
    wi AS (
        SELECT s.node_id,
            count(*) FILTER (WHERE w.posted_at >= %(start)s
                AND w.posted_at < %(end)s) AS wishes_posted,
            count(*) FILTER (WHERE w.state IN ('fulfilled', 'confirmed')
                AND w.fulfilled_at >= %(start)s AND w.fulfilled_at < %(end)s)
                AS wishes_fulfilled
        FROM partyorg_wish w JOIN sub s ON s.region_id = w.region_id
        GROUP BY 1
    ),
    sv AS (
        SELECT s.node_id, sum(sr.hours) AS service_hours
        FROM partyorg_servicerecord sr
        JOIN partyorg_registration rg ON rg.id = sr.registration_id
        JOIN sub s ON s.region_id = rg.community_id
        WHERE sr.served_on >= %(first)s AND sr.served_on < %(following)s
        GROUP BY 1
    ),
    gf AS (
        SELECT g.node_id, count(*) AS grids,
            count(*) FILTER (WHERE g.households_count < %(hh_low)s
                OR g.households_count > %(hh_high)s
                OR g.population_count < %(pop_low)s
                OR g.population_count > %(pop_high)s) AS grids_off_norm,
            count(*) FILTER (WHERE g.households_count IS NULL
                OR g.population_count IS NULL) AS grids_norm_unknown,
            count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM grids_gridassignment a
                WHERE a.grid_id = g.region_id AND a.role = 'full_time'
                    AND a.started_on < %(following)s
                    AND (a.ended_on IS NULL OR a.ended_on >= %(first)s)
            )) AS grids_with_full_time,
            count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM grids_gridassignment a
                JOIN grids_gridworker w ON w.id = a.worker_id
                WHERE a.grid_id = g.region_id AND a.role = 'head'
                    AND w.is_party_member
                    AND a.started_on < %(following)s
                    AND (a.ended_on IS NULL OR a.ended_on >= %(first)s)
            )) AS grids_with_party_head,
            count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM partyorg_partyorg o
                JOIN grids_region orr ON orr.id = o.region_id
                WHERE o.is_active AND {in_list("o.org_type", "covering")}
                    AND orr.tree_id = g.tree_id
                    AND orr.lft BETWEEN g.lft AND g.rght
            )) AS grids_with_party_org,
            COALESCE(sum(g.households_count), 0) AS households_recorded,
            COALESCE(sum(g.population_count), 0) AS population_recorded
        FROM sub g
        WHERE g.level = 'grid' AND g.is_active
        GROUP BY 1
    )
    SELECT n.id AS node_id, n.level, %(days)s AS days, {ticket_columns},
        COALESCE(pt.patrol_days, 0) AS patrol_days,
        COALESCE(pt.households_visited, 0) AS households_visited,
        COALESCE(hh.households, 0) AS households,
        COALESCE(rs.residents, 0) AS residents,
        COALESCE(aw.award_residents, 0) AS award_residents,
        COALESCE(wi.wishes_posted, 0) AS wishes_posted,
        COALESCE(wi.wishes_fulfilled, 0) AS wishes_fulfilled,
        COALESCE(sv.service_hours, 0) AS service_hours,
        COALESCE(gf.grids, 0) AS grids,
        COALESCE(gf.grids_off_norm, 0) AS grids_off_norm,
        COALESCE(gf.grids_norm_unknown, 0) AS grids_norm_unknown,
        COALESCE(gf.grids_with_full_time, 0) AS grids_with_full_time,
        COALESCE(gf.grids_with_party_head, 0) AS grids_with_party_head,
        COALESCE(gf.grids_with_party_org, 0) AS grids_with_party_org,
        COALESCE(gf.households_recorded, 0) AS households_recorded,
        COALESCE(gf.population_recorded, 0) AS population_recorded
    FROM nodes n
    LEFT JOIN tk ON tk.node_id = n.id
    LEFT JOIN pt ON pt.node_id = n.id
    LEFT JOIN hh ON hh.node_id = n.id
    LEFT JOIN rs ON rs.node_id = n.id
    LEFT JOIN aw ON aw.node_id = n.id
    LEFT JOIN wi ON wi.node_id = n.id
    LEFT JOIN sv ON sv.node_id = n.id
    LEFT JOIN gf ON gf.node_id = n.id
    ORDER BY n.tree_id, n.lft
    """


def _ratio(numerator, denominator):
    if not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


def add_rates(row: dict, *, ordinary_weight=DEFAULT_ORDINARY_WEIGHT) -> dict:
    """The derived counts and the rates of one node's counts (see the module's
    docstring for each formula)."""
    weight = Decimal(str(ordinary_weight))
    row["extensions"] = 0  # no extension exists in the tickets app
    row["due_net"] = row["due"] - row["extensions"]
    row["verdicts"] = row["satisfied"] + row["ordinary"] + row["dissatisfied"]
    row["satisfaction_points"] = row["satisfied"] + weight * row["ordinary"]
    row["closed_within_community"] = row["closed_grid"] + row["closed_community"]
    if row["level"] in (RegionLevel.GRID, RegionLevel.BUILDING):
        row["service_hours"] = None
    for key, (_high, numerator, denominator) in RATES.items():
        row[key] = _ratio(row[numerator], row[denominator])
    return row


def indicator_query(*, node_ids, month: dt.date, level: str | None = None):
    """The indicators' one statement and its parameters (rows of counts in tree
    order, before ``add_rates``), for callers that stream its rows."""
    ticket_column = PLACE_COLUMNS.get(level) if level else None
    params = {
        **_bounds(month),
        "ids": [int(pk) for pk in node_ids],
        "covering": list_param(str(t) for t in COVERING_TYPES),
        "hh_low": HOUSEHOLD_NORM // 2,
        "hh_high": HOUSEHOLD_NORM * 2,
        "pop_low": POPULATION_NORM // 2,
        "pop_high": POPULATION_NORM * 2,
    }
    many_nodes = len(params["ids"]) > MANY_NODES
    params["ids"] = list_param(params["ids"])
    return _indicator_sql(ticket_column, many_nodes), params


def indicators_for_nodes(
    *,
    node_ids,
    month: dt.date,
    level: str | None = None,
    ordinary_weight=DEFAULT_ORDINARY_WEIGHT,
) -> list[dict]:
    """One row of counts and rates per node in ``node_ids`` (in tree order), for
    ``month``: one query. ``level`` is the nodes' common level when known: a
    scope level groups tickets by their ancestor column (indexed); otherwise
    tickets go through the nodes' MPTT ranges."""
    node_ids = [int(pk) for pk in node_ids]
    if not node_ids:
        return []
    sql, params = indicator_query(node_ids=node_ids, month=month, level=level)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = column_names(cursor)
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return [add_rates(row, ordinary_weight=ordinary_weight) for row in rows]


def children_indicators(*, actor, region: Region, month: dt.date) -> list[dict]:
    """The indicators of each active child of ``region`` for ``month``, each
    row with the child's id, name and level: the drill-down from a district to
    its streets, a street to its communities, a community to its grids. Scoped
    (outside the actor's area: OutOfScope). Two queries whatever the number of
    children and rows: the children, then the indicators."""
    require_in_scope(actor, region)
    children = list(
        Region.objects.filter(parent=region, is_active=True)
        .order_by("lft")
        .values("pk", "name", "level")
    )
    levels = {child["level"] for child in children}
    level = levels.pop() if len(levels) == 1 else None
    rows = indicators_for_nodes(
        node_ids=[child["pk"] for child in children], month=month, level=level
    )
    names = {child["pk"]: child["name"] for child in children}
    for row in rows:
        row["name"] = names[row["node_id"]]
    return rows
