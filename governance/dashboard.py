"""The supervisors' dashboard (issue 12): the reads behind the page of one Region
node and one month, and the monthly summary rows they come from.

Every figure is a count or a rate of ``governance.indicators`` (the formulas
live there, with their sources); this module only gathers them per node and
month and shapes them into the page's tables. The month's counts of a node are
read from ``IndicatorMonth`` (one row per node and month, written by
``indicator_months_refresh``: the hourly job for the running and the last
month, the monthly rating task, ``manage.py dashboard_refresh`` for history);
a month without its row is computed from the raw rows on the spot (two queries
a month), so the page is right before the first refresh, only slower.

Reads a fixed number of queries whatever the number of grids and tickets
(tests pin the bound at 5 and at 50 grids): the node's twelve months of
summaries, its children's, the ratings' distribution, movers, 十佳/十差, the
grids of the map, the capped overdue and escalated lists, category names.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import RegionLevel
from grids.models import Region
from grids.pagination import CappedCount
from grids.permissions import require_in_scope
from grids.querysets import subtree_q
from partyorg.deliberation.choices import PUBLIC_STEPS
from partyorg.deliberation.views import notice_url
from partyorg.microprojects.choices import ProjectState
from partyorg.microprojects.views import micro_project_notice_url
from partyorg.models import MicroProject, TopicStep
from tickets.choices import ESCALATING_STAGES, Stage
from tickets.models import Category, Ticket
from tickets.places import PLACE_COLUMNS
from tickets.querysets import overdue_q

from .dashboard_models import IndicatorMonth
from .dialect import in_list, list_param
from .indicators import (
    OTHER_COUNTS,
    TICKET_COUNTS,
    _bounds,
    add_rates,
    indicators_for_nodes,
    month_start,
    next_month,
    previous_month,
    subtree_join,
)
from .models import GridRating, RatingClass
from .selectors import best_and_worst, rating_movers, ratings_visible

# The levels whose nodes get summary rows (a building, below a grid, is
# computed on the spot when opened: a few households).
SUMMARY_LEVELS = (
    RegionLevel.DISTRICT,
    RegionLevel.STREET,
    RegionLevel.AREA,
    RegionLevel.COMMUNITY,
    RegionLevel.GRID,
)
COUNT_KEYS = ("days", *TICKET_COUNTS, *OTHER_COUNTS)
TREND_MONTHS = 12
# The overdue and escalated lists show this many tickets (the oldest deadline
# first) and count up to LIST_COUNT_CAP ("1,000+" past it).
LIST_CAP = 20
LIST_COUNT_CAP = 1000
# Categories beyond the largest ones are summed as "other".
CATEGORY_CAP = 12
# The map draws at most this many grids (a district has ~2,000; a province
# opens its districts first).
MAP_CAP = 5000
MOVERS_CAP = 15
BEST_WORST_COUNT = 10
INSERT_BATCH = 2000


# ---------------------------------------------------------------- summaries


def _breakdown_sql(level: str | None) -> str:
    """Tickets received in the month per node, category and current stage."""
    received = "t.received_at >= %(start)s AND t.received_at < %(end)s"
    column = PLACE_COLUMNS.get(level) if level else None
    if column:
        return (
            f"SELECT t.{column} AS node_id, t.category_id, t.stage, count(*)"
            f" FROM tickets_ticket t WHERE {in_list(f't.{column}', 'ids')}"
            f" AND {received}"
            " GROUP BY 1, 2, 3"
        )
    return (
        "WITH nodes AS MATERIALIZED (SELECT id, tree_id, lft, rght"
        f" FROM grids_region WHERE {in_list('id', 'ids')}),"
        " sub AS MATERIALIZED (SELECT n.id AS node_id, r.id AS region_id"
        f" FROM {subtree_join()})"
        " SELECT s.node_id, t.category_id, t.stage, count(*)"
        " FROM tickets_ticket t JOIN sub s ON s.region_id = t.region_id"
        f" WHERE {received} GROUP BY 1, 2, 3"
    )


def ticket_breakdown(*, node_ids, month: dt.date, level: str | None = None) -> dict:
    """{node id: (by_category, by_stage)} of the tickets received in ``month``
    in each node's subtree: by category id (merged duplicates left out, so the
    sum is the indicators' ``received``) and by current stage (merged ones
    included). One query."""
    node_ids = [int(pk) for pk in node_ids]
    result = {pk: ({}, {}) for pk in node_ids}
    if not node_ids:
        return result
    params = {**_bounds(month), "ids": list_param(node_ids)}
    with connection.cursor() as cursor:
        cursor.execute(_breakdown_sql(level), params)
        for node_id, category_id, stage, count in cursor.fetchall():
            by_category, by_stage = result[node_id]
            by_stage[stage] = by_stage.get(stage, 0) + count
            if stage != Stage.MERGED:
                key = str(category_id) if category_id is not None else ""
                by_category[key] = by_category.get(key, 0) + count
    return result


def _stored_counts(row: dict) -> dict:
    counts = {key: int(row[key]) for key in COUNT_KEYS}
    hours = row.get("service_hours")
    counts["service_hours"] = str(hours) if hours is not None else None
    return counts


def summary_rows(*, node_ids, month: dt.date, level: str | None = None) -> list:
    """The unsaved ``IndicatorMonth`` rows of ``node_ids`` for ``month``,
    recomputed from the raw rows (two queries)."""
    month = month_start(month)
    now = timezone.now()
    indicators = indicators_for_nodes(node_ids=node_ids, month=month, level=level)
    breakdown = ticket_breakdown(node_ids=node_ids, month=month, level=level)
    return [
        IndicatorMonth(
            region_id=row["node_id"],
            month=month,
            counts=_stored_counts(row),
            by_category=breakdown[row["node_id"]][0],
            by_stage=breakdown[row["node_id"]][1],
            computed_at=now,
        )
        for row in indicators
    ]


# The levels above the grids: the rating job writes the grids' rows from its own
# indicator pass (governance.services.rate_grids), its task these after it.
LEVELS_ABOVE_GRID = tuple(lv for lv in SUMMARY_LEVELS if lv != RegionLevel.GRID)


def indicator_months_refresh(
    *, month: dt.date, region: Region | None = None, levels=SUMMARY_LEVELS
) -> int:
    """Recompute the summary rows of ``month`` for every active node of the
    summary levels (``levels``; under ``region`` when given) and upsert them:
    set-based, two queries a level and one INSERT … ON CONFLICT a batch.
    Idempotent (a rerun rewrites the same rows); two runs at once both write
    whole rows, each in its own transaction. Returns the rows written."""
    month = month_start(month)
    written = 0
    for level in levels:
        nodes = Region.objects.filter(level=level, is_active=True)
        if region is not None:
            nodes = nodes.filter(subtree_q(region))
        # In id order: two runs at once upsert the same rows in the same order.
        node_ids = list(nodes.order_by("pk").values_list("pk", flat=True))
        if not node_ids:
            continue
        rows = summary_rows(node_ids=node_ids, month=month, level=level)
        _upsert(rows)
        written += len(rows)
    return written


def _upsert(rows: list) -> None:
    with transaction.atomic():
        IndicatorMonth.objects.bulk_create(
            rows,
            batch_size=INSERT_BATCH,
            update_conflicts=True,
            unique_fields=["region", "month"],
            update_fields=["counts", "by_category", "by_stage", "computed_at"],
        )


def grid_summaries_write(*, rows: list[dict], month: dt.date, now) -> int:
    """The grids' summary rows of ``month`` from indicator rows the caller
    already has (the rating job on SQLite; on PostgreSQL it writes them in SQL,
    ``rating_sql.grid_summaries_sql``): the breakdown (one query) and the
    upsert. Returns the rows written."""
    if not rows:
        return 0
    month = month_start(month)
    breakdown = ticket_breakdown(
        node_ids=[row["node_id"] for row in rows], month=month, level=RegionLevel.GRID
    )
    _upsert(
        [
            IndicatorMonth(
                region_id=row["node_id"],
                month=month,
                # A grid has no 双报到 hours of its own (indicators.add_rates).
                counts=_stored_counts({**row, "service_hours": None}),
                by_category=breakdown[row["node_id"]][0],
                by_stage=breakdown[row["node_id"]][1],
                computed_at=now,
            )
            for row in sorted(rows, key=lambda row: row["node_id"])
        ]
    )
    return len(rows)


def recent_months_refresh(*, today: dt.date | None = None) -> int:
    """The hourly job: the running month and the one before (whose late
    closures and verdicts may still arrive)."""
    today = today or timezone.localdate()
    return indicator_months_refresh(
        month=previous_month(today)
    ) + indicator_months_refresh(month=today)


# ------------------------------------------------------------------ reading


def months_back(month: dt.date, count: int) -> list[dt.date]:
    months = [month_start(month)]
    while len(months) < count:
        months.append(previous_month(months[-1]))
    return list(reversed(months))


def _stored_rows(node_ids: list[int], months: list[dt.date]) -> dict:
    """The summary rows of ``node_ids`` and ``months`` (one query)."""
    return {
        (row["region_id"], row["month"]): row
        for row in IndicatorMonth.objects.filter(
            region_id__in=node_ids, month__in=months
        ).values(
            "region_id", "month", "counts", "by_category", "by_stage", "computed_at"
        )
    }


def _counts_of(nodes: list[dict], months: list[dt.date], found=None) -> dict:
    """{(node id, month): {"counts", "by_category", "by_stage", "computed_at"}}
    for every node and month: the summary rows in one query (or ``found``, the
    rows a caller read with others: ``_stored_rows``), then each month that
    lacks rows computed from the raw rows (two queries a month)."""
    if found is None:
        found = _stored_rows([n["pk"] for n in nodes], months)
    found = {
        (pk, month): found[(pk, month)]
        for pk in (n["pk"] for n in nodes)
        for month in months
        if (pk, month) in found
    }
    for month in months:
        missing = [n for n in nodes if (n["pk"], month) not in found]
        if not missing:
            continue
        levels = {n["level"] for n in missing}
        level = levels.pop() if len(levels) == 1 else None
        for row in summary_rows(
            node_ids=[n["pk"] for n in missing], month=month, level=level
        ):
            found[(row.region_id, month)] = {
                "counts": row.counts,
                "by_category": row.by_category,
                "by_stage": row.by_stage,
                "computed_at": None,
            }
    return found


def _with_rates(counts: dict, level: str) -> dict:
    row = {key: counts.get(key, 0) for key in COUNT_KEYS}
    hours = counts.get("service_hours")
    row["service_hours"] = Decimal(hours) if hours is not None else None
    row["level"] = level
    return add_rates(row)


def _figure(key, label, value, previous, is_rate) -> dict:
    """A headline figure with its change against last month, ready to show
    (a rate's change in percentage points)."""
    change = None if value is None or previous is None else value - previous
    if change is None:
        change_display = _("no comparison")
    elif is_rate:
        change_display = _("%(sign)s%(points).1f points") % {
            "sign": "+" if change > 0 else "",
            "points": Decimal(change) * 100,
        }
    else:
        change_display = f"{'+' if change > 0 else ''}{change}"
    return {
        "key": key,
        "label": label,
        "value": value,
        "previous": previous,
        "change": change,
        "display": format_percent(value) if is_rate else _display(value),
        "change_display": change_display,
        "direction": "up" if change and change > 0 else "down" if change else "",
    }


def _node_q(region: Region) -> Q:
    """Tickets placed in ``region``'s subtree: its scope column when its level
    has one, else the MPTT range."""
    column = PLACE_COLUMNS.get(region.level)
    if column:
        return Q(**{column: region.pk})
    return subtree_q(region, "region")


@dataclass
class Table:
    """One chart's numbers: the table beside it, its CSV and Excel download
    and the data the chart script draws (json_script)."""

    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    chart: str = "bar"
    # Cells that are percentages (0–1 Decimal) by column index.
    percent_columns: tuple[int, ...] = ()
    # The Region node of each row, when a row is a node to drill down to.
    row_ids: list[int] = field(default_factory=list)

    def display_rows(self) -> list[tuple[int | None, list[str]]]:
        """(node id or None, cells) of each row as the page's table shows them
        (rates as percentages)."""
        return [
            (
                self.row_ids[n] if self.row_ids else None,
                [
                    format_percent(value)
                    if i in self.percent_columns
                    else _display(value)
                    for i, value in enumerate(row)
                ],
            )
            for n, row in enumerate(self.rows)
        ]

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "title": str(self.title),
            "columns": [str(c) for c in self.columns],
            "rows": [[_plain(v) for v in row] for row in self.rows],
            "chart": self.chart,
            "percent": list(self.percent_columns),
            "ids": list(self.row_ids),
        }


def format_percent(value) -> str:
    """A rate (0–1) as "91.2%"; no data as "–"."""
    if value is None:
        return "–"
    return f"{Decimal(value) * 100:.1f}%"


def _display(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    if isinstance(value, Decimal):
        return f"{value:.1f}"
    return str(value)


def _plain(value):
    if isinstance(value, Decimal):
        return float(round(value, 4))
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    if value is None or isinstance(value, int | float):
        return value
    return str(value)


# The headline figures: (indicator key, is a rate).
HEADLINE = (
    ("received", False),
    ("closed", False),
    ("response_rate", True),  # 及时签收率
    ("resolution_rate", True),  # 办结率
    ("satisfaction_rate", True),  # 满意率
    ("on_time_rate", True),  # 按期办结率
    ("grid_closure_share", True),  # 小事不出网格
    ("points_participation", True),  # 积分参与率
)


def _headline_label(key: str) -> str:
    return {
        "received": _("Tickets received"),
        "closed": _("Tickets closed"),
        "response_rate": _("Response rate"),
        "resolution_rate": _("Resolution rate"),
        "satisfaction_rate": _("Satisfaction rate"),
        "on_time_rate": _("On-time rate"),
        "grid_closure_share": _("Closed within the grid"),
        "points_participation": _("Residents awarded points"),
    }[key]


def dashboard(*, actor, region: Region, month: dt.date, now=None) -> dict:
    """Everything the dashboard page of ``region`` shows for ``month``.
    ``region`` must lie in the actor's area (OutOfScope otherwise)."""
    require_in_scope(actor, region)
    month = month_start(month)
    now = now or timezone.now()
    months = months_back(month, TREND_MONTHS)
    last = previous_month(month)

    children = list(
        Region.objects.filter(parent=region, is_active=True)
        .order_by("lft")
        .values("pk", "name", "level")
    )
    me = {"pk": region.pk, "name": region.name, "level": region.level}
    # The node's twelve months and its children's two in one read (the
    # children's other months are read too: a district's few hundred rows).
    stored = _stored_rows([me["pk"], *(c["pk"] for c in children)], months)
    mine = _counts_of([me], months, stored)
    kids = _counts_of(children, [last, month], stored) if children else {}

    def rates(node, when):
        entry = (mine if node is me else kids)[(node["pk"], when)]
        return _with_rates(entry["counts"], node["level"])

    current, before = rates(me, month), rates(me, last)
    headline = [
        _figure(key, _headline_label(key), current[key], before[key], is_rate)
        for key, is_rate in HEADLINE
    ]
    child_rows = [
        {"pk": child["pk"], "name": child["name"], **rates(child, month)}
        for child in children
    ]
    this_month = mine[(region.pk, month)]
    tables = [
        _trend_table(
            [
                _with_rates(mine[(region.pk, m)]["counts"], region.level) | {"month": m}
                for m in months
            ]
        ),
        *_ticket_tables(this_month["by_stage"], this_month["by_category"]),
        _rates_table(current, before),
        _closure_table(current),
        _coverage_table(current),
        _points_table(current, before),
        _classes_table(
            _class_distribution(actor=actor, region=region, months=[last, month]),
            month,
            last,
        ),
    ]
    if child_rows:
        tables.append(_children_table(child_rows, children[0]["level"]))

    movers = rating_movers(actor=actor, month=month, region=region)
    ups = list(movers.filter(moved__gt=0)[:MOVERS_CAP])
    downs = list(movers.filter(moved__lt=0)[:MOVERS_CAP])
    ranking = best_and_worst(
        actor=actor, region=region, month=month, count=BEST_WORST_COUNT
    )
    map_grids, map_capped = _map_grids(actor=actor, region=region, month=month)

    co_governance = _co_governance(region, month)
    overdue, overdue_count, escalated, escalated_count = _overdue_lists(region, now)
    return {
        "region": region,
        "month": month,
        "previous_month": last,
        "months": months,
        # When the month's summary was computed (None: computed just now).
        "as_of": mine[(region.pk, month)]["computed_at"],
        "headline": headline,
        "tables": tables,
        "children": child_rows,
        "movers_up": ups,
        "movers_down": downs,
        "best": ranking["best"],
        "worst": ranking["worst"],
        "map": map_grids,
        "map_capped": map_capped,
        "overdue": overdue,
        "overdue_count": overdue_count,
        "escalated": escalated,
        "escalated_count": escalated_count,
        "co_governance": co_governance,
    }


# ------------------------------------------------------------ the page's tables


def _trend_table(rows: list[dict]) -> Table:
    """12-month trends: received, closed and the rates, month by month."""
    return Table(
        "trends",
        _("Twelve months"),
        [
            _("Month"),
            _("Received"),
            _("Closed"),
            _("Response rate"),
            _("Resolution rate"),
            _("Satisfaction rate"),
            _("On-time rate"),
        ],
        [
            [
                row["month"],
                row["received"],
                row["closed"],
                row["response_rate"],
                row["resolution_rate"],
                row["satisfaction_rate"],
                row["on_time_rate"],
            ]
            for row in rows
        ],
        chart="trend",
        percent_columns=(3, 4, 5, 6),
    )


def _ticket_tables(by_stage: dict, by_category: dict) -> list[Table]:
    """Tickets received in the month by current stage, and by category (the
    largest CATEGORY_CAP, the rest summed). One query (category names)."""
    ranked = sorted(by_category.items(), key=lambda item: (-item[1], item[0]))
    top, rest = ranked[:CATEGORY_CAP], ranked[CATEGORY_CAP:]
    names = dict(
        Category.objects.filter(pk__in=[int(pk) for pk, _n in top if pk]).values_list(
            "pk", "name"
        )
    )
    category_rows = [
        [names.get(int(pk), pk) if pk else _("No category"), count] for pk, count in top
    ]
    if rest:
        category_rows.append([_("Other categories"), sum(c for _pk, c in rest)])
    return [
        Table(
            "stages",
            _("Tickets received this month, by stage now"),
            [_("Stage"), _("Tickets")],
            [[label, by_stage.get(value, 0)] for value, label in Stage.choices],
            chart="bar",
        ),
        Table(
            "categories",
            _("Tickets received this month, by category"),
            [_("Category"), _("Tickets")],
            category_rows,
            chart="pie",
        ),
    ]


def _rates_table(current: dict, before: dict) -> Table:
    """The 12345 rates this month and last, with the count each rests on."""
    rate_keys = (
        ("response_rate", _("Response rate"), "dispatched"),
        ("resolution_rate", _("Resolution rate"), "received"),
        ("on_time_rate", _("On-time rate"), "due_net"),
        ("satisfaction_rate", _("Satisfaction rate"), "verdicts"),
        ("rework_rate", _("Rework rate"), "closed"),
        ("escalation_rate", _("Escalation rate"), "closed"),
    )
    return Table(
        "rates",
        _("The 12345 rates"),
        [_("Rate"), _("This month"), _("Last month"), _("Tickets counted")],
        [
            [label, current[key], before[key], current[base]]
            for key, label, base in rate_keys
        ],
        chart="rates",
        percent_columns=(1, 2),
    )


def _closure_table(current: dict) -> Table:
    """小事不出网格、大事不出社区: where the month's tickets were closed."""
    return Table(
        "closure",
        _("Closure level"),
        [_("Closed at"), _("Tickets")],
        [
            [_("Grid"), current["closed_grid"]],
            [_("Community"), current["closed_community"]],
            [_("Street"), current["closed_street"]],
            [_("Above the street"), current["closed_above"]],
        ],
        chart="pie",
    )


def _coverage_table(current: dict) -> Table:
    """Worker and party coverage (seeds 000, 003) of the subtree's grids."""
    grids = current["grids"]
    rows = [
        [_("Grids with a full-time worker"), current["grids_with_full_time"]],
        [_("Grids whose head is a party member"), current["grids_with_party_head"]],
        [_("Grids with a party organisation"), current["grids_with_party_org"]],
        [
            _("Grids far off the 300 households / 1000 people norm"),
            current["grids_off_norm"],
        ],
    ]
    return Table(
        "coverage",
        _("Worker and party coverage"),
        [_("Grids"), _("Count"), _("Share of %(n)s grids") % {"n": grids}],
        [
            [label, count, Decimal(count) / Decimal(grids) if grids else None]
            for label, count in rows
        ],
        chart="coverage",
        percent_columns=(2,),
    )


def _points_table(current: dict, before: dict) -> Table:
    """Points, micro-wishes and 双报到 hours this month and last."""
    rows = (
        (_("Residents with points awarded"), "award_residents"),
        (_("Active residents"), "residents"),
        (_("Micro-wishes posted"), "wishes_posted"),
        (_("Micro-wishes fulfilled"), "wishes_fulfilled"),
        (_("Service hours of registered members"), "service_hours"),
    )
    return Table(
        "points",
        _("Points and participation"),
        [_("Figure"), _("This month"), _("Last month")],
        [[label, current[key], before[key]] for label, key in rows],
        chart="bar2",
    )


def _classes_table(distribution: dict, month, last) -> Table:
    """A/B/C distribution this month and last (the ratings in force)."""
    return Table(
        "classes",
        _("A/B/C classes of the grids"),
        [_("Class"), _("This month"), _("Last month")],
        [
            [label, distribution[(month, value)], distribution[(last, value)]]
            for value, label in RatingClass.choices
        ],
        chart="classes",
    )


def _children_table(child_rows: list[dict], level: str) -> Table:
    """The drill-down: each child's figures this month, linked to its page."""
    return Table(
        "children",
        _("By %(level)s") % {"level": _level_name(level)},
        [
            _("Name"),
            _("Received"),
            _("Closed"),
            _("Response rate"),
            _("Resolution rate"),
            _("Satisfaction rate"),
            _("Closed within the grid"),
        ],
        [
            [
                r["name"],
                r["received"],
                r["closed"],
                r["response_rate"],
                r["resolution_rate"],
                r["satisfaction_rate"],
                r["grid_closure_share"],
            ]
            for r in child_rows
        ],
        chart="children",
        percent_columns=(3, 4, 5, 6),
        row_ids=[r["pk"] for r in child_rows],
    )


OUTCOMES_CAP = 10


def _co_governance(region: Region, month: dt.date) -> dict:
    """Co-governance of the node's subtree in ``month`` (two queries): the
    deliberation outcomes, resolutions and execution records published in the
    month (newest first, at most OUTCOMES_CAP, each with its community's public
    notice), and the 民生微实事 totals: projects proposed, accepted and the
    money spent on those accepted in the month."""
    start = timezone.make_aware(dt.datetime.combine(month, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(next_month(month), dt.time.min))
    records = list(
        TopicStep.objects.filter(
            subtree_q(region, "topic__region"),
            step__in=PUBLIC_STEPS,
            completed_on__gte=month,
            completed_on__lt=next_month(month),
        )
        .select_related("topic__community")
        .order_by("-completed_on", "-pk")[:OUTCOMES_CAP]
    )
    notices = {}
    for record in records:
        community = record.topic.community
        if community.pk not in notices:
            notices[community.pk] = notice_url(community)
        record.notice_url = notices[community.pk]
    in_month = Q(accepted_at__gte=start, accepted_at__lt=end)
    projects = MicroProject.objects.filter(subtree_q(region, "community")).aggregate(
        proposed=Count("pk", filter=Q(created_at__gte=start, created_at__lt=end)),
        accepted=Count("pk", filter=in_month & Q(state=ProjectState.ACCEPTED)),
        spent=Sum("spent", filter=in_month & Q(state=ProjectState.ACCEPTED)),
    )
    projects["spent"] = projects["spent"] or Decimal("0.00")
    if region.level == RegionLevel.COMMUNITY:
        projects["notice_url"] = micro_project_notice_url(region)
    return {"outcomes": records, "projects": projects}


def _overdue_lists(region, now) -> tuple[list, CappedCount, list, CappedCount]:
    """The overdue list and its count, the escalated list and its count
    (``_overdue_ids`` each: one query), their tickets read in one query."""
    overdue_ids, overdue_count = _overdue_ids(region, now, escalated=False)
    escalated_ids, escalated_count = _overdue_ids(region, now, escalated=True)
    tickets = {
        ticket.pk: ticket
        for ticket in Ticket.objects.filter(
            pk__in={*overdue_ids, *escalated_ids}
        ).select_related("category", "region")
    }

    def rows(ids):
        return sorted(
            (tickets[pk] for pk in ids if pk in tickets),
            key=lambda ticket: (ticket.stage_deadline, ticket.pk),
        )

    return rows(overdue_ids), overdue_count, rows(escalated_ids), escalated_count


def _overdue_ids(region, now, *, escalated: bool) -> tuple[list, CappedCount]:
    """The ids of the tickets of the subtree past their stage deadline
    (``tickets.querysets.overdue_q``, the one overdue rule), oldest deadline
    first, at most LIST_CAP of them, and how many (capped at LIST_COUNT_CAP);
    ``escalated``: only those already escalated at least once and still
    overdue. One query.

    A district: one ordered range of ``ticket_overdue_district`` (its place
    column, stage_deadline, id; partial on the escalating stages), read
    index-only up to the limit. Any other node: one branch per escalating
    stage, each an ordered range of the ticket index on (stage,
    stage_deadline) read only up to its limit, joined by UNION ALL, instead of
    collecting and sorting every open ticket of the node."""
    tickets = Ticket.objects.filter(_node_q(region)).filter(overdue_q(now))
    if escalated:
        tickets = tickets.filter(escalation_level__gt=0)

    def branches(limit):
        ordered = tickets.order_by("stage_deadline", "pk").values_list(
            "pk", "stage_deadline"
        )[:limit]
        if region.level == RegionLevel.DISTRICT:
            return ordered
        parts = [
            tickets.filter(stage=stage)
            .order_by("stage_deadline", "pk")
            .values_list("pk", "stage_deadline")[:limit]
            for stage in _escalating()
        ]
        if connection.features.supports_slicing_ordering_in_compound:
            return parts[0].union(*parts[1:], all=True)
        # SQLite cannot limit the branches of a UNION: one ordered query over
        # the stages, limited alike (the same first rows, the same capped count).
        return ordered

    # Each branch stops one past the cap (past it in any branch: "1,000+"); the
    # few thousand (id, deadline) pairs give both the count and the first rows.
    found = sorted(branches(LIST_COUNT_CAP + 1), key=lambda row: (row[1], row[0]))
    first = [pk for pk, _deadline in found[:LIST_CAP]]
    found = len(found)
    return first, CappedCount(min(found, LIST_COUNT_CAP), found > LIST_COUNT_CAP)


def _escalating():
    return sorted(ESCALATING_STAGES)


def _level_name(level: str) -> str:
    return str(RegionLevel(level).label)


def _class_distribution(*, actor, region, months) -> dict:
    """{(month, class): grids} of the ratings in force in the subtree, through
    ``ratings_visible``'s scope. One query for all the months."""
    result = {(m, c): 0 for m in months for c in RatingClass.values}
    rows = (
        ratings_visible(actor=actor, months=months, region=region)
        .exclude(rating_class="")
        .values("month", "rating_class")
        .annotate(grids=Count("pk"))
        .order_by()
    )
    for row in rows:
        result[(row["month"], row["rating_class"])] = row["grids"]
    return result


def _map_grids(*, actor, region, month) -> tuple[list[dict], bool]:
    """The active grids of the subtree with a centre or a boundary, each with
    its class in force for ``month`` (empty: not rated). One query; at most
    MAP_CAP grids (the second value says whether some were left out)."""
    rating = GridRating.objects.filter(grid=OuterRef("pk"), month=month).values(
        "rating_class"
    )[:1]
    grids = list(
        Region.objects.visible_to(actor)
        .filter(subtree_q(region), level=RegionLevel.GRID, is_active=True)
        .filter(
            Q(latitude__isnull=False, longitude__isnull=False)
            | Q(boundary__isnull=False)
        )
        .annotate(rating_class=Subquery(rating))
        .order_by("lft")
        .values("pk", "name", "latitude", "longitude", "boundary", "rating_class")[
            : MAP_CAP + 1
        ]
    )
    capped = len(grids) > MAP_CAP
    return grids[:MAP_CAP], capped
