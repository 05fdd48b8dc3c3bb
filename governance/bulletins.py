"""The supervisors' periodic reports (seed 003: 日巡查、周通报、月评比、年奖惩) and
the grid page: reads only, each starting from the reader's scope (a region
outside it is ``OutOfScope``, a 404 on the pages).

- ``weekly_bulletin`` 周通报: a street's (or a community's) ISO week, per
  community and grid, against the week before.
- ``monthly_ranking`` 月评比: a month's ratings of a street, a district or a
  community ranked by score, with 十佳/十差 and the movers
  (``governance.selectors``), and whether each street published the month.
- ``yearly_summary`` 年奖惩: the twelve months of a year per grid.
- ``grid_profile``: a grid's indicators (``governance.indicators``), class
  history with appeals and class changes, roster and party organisation.

Every function runs a fixed number of queries whatever the number of grids or
tickets: counts are grouped in the database (by the ticket's ancestor columns,
``tickets.places``), and Python only adds up the grouped rows.

Weekly counts (docs/domain-rules.md "Weekly bulletin"); a week runs from
Monday 00:00 to the next Monday 00:00 in the project's time zone:

- received: tickets received in the week (merged duplicates left out);
- closed: tickets closed (考单 done) in the week;
- overdue: tickets whose 做单 deadline (``handling_due_at``) fell in the week,
  before now, and that were not handled by it (the on-time rate's rule);
- escalated: tickets escalated (超期升级) at least once in the week;
- patrols and patrol days: patrol, visit and diary entries, and the days of the
  week with at least one of them (日巡查);
- the worst overdue items: tickets whose 做单 deadline had passed at the week's
  end (or now, for the running week) without being handled, longest first.
"""

import datetime as dt
from bisect import bisect_right
from decimal import Decimal

from django.db.models import Avg, Count, F, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import RegionLevel
from grids.errors import DomainError
from grids.masking import mask_phone
from grids.models import GridAssignment, Patrol, Region
from grids.permissions import require_in_scope
from grids.querysets import ancestors_or_self_q, scope_q, subtree_q
from partyorg.models import PartyOrg
from tickets.choices import Action, Stage
from tickets.models import Ticket, TicketEvent
from tickets.places import PLACE_COLUMNS

from .indicators import RATES, indicators_for_nodes, month_start, previous_month
from .models import (
    GridRating,
    RatingAppeal,
    RatingClass,
    RatingPublication,
)
from .selectors import best_and_worst, rating_movers, ratings_visible

BULLETIN_LEVELS = (RegionLevel.STREET, RegionLevel.COMMUNITY)
RANKING_LEVELS = (RegionLevel.DISTRICT, RegionLevel.STREET, RegionLevel.COMMUNITY)
WORST_OVERDUE = 10
WEEK_COUNTS = ("received", "closed", "overdue", "escalated", "patrols", "patrol_days")
# The indicators the grid page shows, in this order (keys of indicators.RATES).
GRID_PAGE_RATES = tuple(RATES)


def _require_level(region: Region, levels) -> None:
    if region.level not in levels:
        raise DomainError(
            _("This report is kept for a %(levels)s.")
            % {"levels": " / ".join(str(RegionLevel(level).label) for level in levels)},
            code="invalid_region",
        )


def default_region(actor, levels) -> Region | None:
    """The region a report opens on: the actor's own node when it is of one of
    ``levels``, else the first such node inside the actor's area."""
    own = actor.scope_region
    if own is not None and own.level in levels:
        return own
    return (
        Region.objects.visible_to(actor)
        .filter(level__in=levels, is_active=True)
        .order_by("tree_id", "lft")
        .first()
    )


# --- weeks -------------------------------------------------------------------------


def week_monday(year: int, week: int) -> dt.date:
    """The Monday of ISO week ``week`` of ``year`` (ValueError when none)."""
    return dt.date.fromisocalendar(year, week, 1)


def parse_iso_week(raw: str | None) -> dt.date | None:
    """``2026-W49`` (or ``2026-49``) → its Monday; None when malformed."""
    raw = (raw or "").strip().upper().replace("W", "")
    parts = raw.split("-")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    if len(parts[0]) != 4 or not 1 <= len(parts[1]) <= 2:
        return None
    try:
        return week_monday(int(parts[0]), int(parts[1]))
    except ValueError:
        return None


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time()), timezone.get_default_timezone()
    )


def _week_filters(start, end, now) -> dict:
    """The conditions of each weekly count on a ticket (see the module
    docstring), keyed by count."""
    missed_by = min(end, now)
    return {
        "received": Q(received_at__gte=start, received_at__lt=end)
        & ~Q(stage=Stage.MERGED),
        "closed": Q(stage=Stage.CLOSED, closed_at__gte=start, closed_at__lt=end),
        "overdue": Q(handling_due_at__gte=start, handling_due_at__lt=missed_by)
        & (Q(handled_at__isnull=True) | Q(handled_at__gt=F("handling_due_at"))),
    }


class _Node:
    """One row of a report: a grid, a community or the whole area, with its
    counts for this week and the week before."""

    def __init__(self, pk, name, level, lft=0, rght=0, parent_id=None):
        self.pk, self.name, self.level = pk, name, level
        self.lft, self.rght, self.parent_id = lft, rght, parent_id
        self.current = dict.fromkeys(WEEK_COUNTS, 0)
        self.previous = dict.fromkeys(WEEK_COUNTS, 0)
        self.days = {"current": set(), "previous": set()}
        self.grids = []

    def add(self, which: str, counts: dict) -> None:
        target = self.current if which == "current" else self.previous
        for key, value in counts.items():
            target[key] += value

    def close_days(self) -> None:
        self.current["patrol_days"] = len(self.days["current"])
        self.previous["patrol_days"] = len(self.days["previous"])

    @property
    def changes(self) -> dict:
        return {key: self.current[key] - self.previous[key] for key in WEEK_COUNTS}

    @property
    def rows(self) -> list[tuple]:
        """(count, this week, last week, change) in ``WEEK_COUNTS`` order."""
        changes = self.changes
        return [
            (key, self.current[key], self.previous[key], changes[key])
            for key in WEEK_COUNTS
        ]


def _containing(nodes: list[_Node], lefts: list[int], lft: int) -> _Node | None:
    """The node of ``nodes`` (sorted by ``lft``, disjoint) whose range holds
    ``lft``."""
    index = bisect_right(lefts, lft) - 1
    if index >= 0 and nodes[index].lft <= lft <= nodes[index].rght:
        return nodes[index]
    return None


def weekly_bulletin(*, actor, region: Region, monday: dt.date, now=None) -> dict:
    """周通报 of ``region`` (a street or a community) for the ISO week starting
    on ``monday``. Seven queries whatever the number of grids and tickets."""
    require_in_scope(actor, region)
    _require_level(region, BULLETIN_LEVELS)
    now = now or timezone.now()
    monday = monday - dt.timedelta(days=monday.weekday())
    start, end = _aware(monday), _aware(monday + dt.timedelta(days=7))
    previous_start = _aware(monday - dt.timedelta(days=7))
    area = _Node(region.pk, region.name, region.level, region.lft, region.rght)

    subtree = Region.objects.filter(
        subtree_q(region), is_active=True, level__in=(RegionLevel.COMMUNITY, "grid")
    ).order_by("lft")
    communities, grids = [], []
    for pk, name, level, lft, rght, parent_id in subtree.values_list(
        "pk", "name", "level", "lft", "rght", "parent_id"
    ):
        node = _Node(pk, name, level, lft, rght, parent_id)
        (communities if level == RegionLevel.COMMUNITY else grids).append(node)
    if region.level == RegionLevel.COMMUNITY:
        communities = []
    community_lefts = [c.lft for c in communities]
    grid_lefts = [g.lft for g in grids]
    by_pk = {node.pk: node for node in (*communities, *grids)}
    for grid in grids:
        community = _containing(communities, community_lefts, grid.lft)
        if community is not None:
            community.grids.append(grid)

    # Tickets: one grouped query over both weeks, by the ancestor columns.
    area_column = PLACE_COLUMNS[region.level]
    filters = {
        "current": _week_filters(start, end, now),
        "previous": _week_filters(previous_start, start, now),
    }
    aggregates = {
        f"{which}_{key}": Count("pk", filter=condition)
        for which, conditions in filters.items()
        for key, condition in conditions.items()
    }
    ticket_rows = (
        Ticket.objects.filter(**{area_column: region.pk})
        .filter(
            Q(received_at__gte=previous_start, received_at__lt=end)
            | Q(closed_at__gte=previous_start, closed_at__lt=end)
            | Q(handling_due_at__gte=previous_start, handling_due_at__lt=end)
        )
        .values("place_community_id", "place_grid_id")
        .annotate(**aggregates)
        .order_by()
    )
    escalation_rows = (
        TicketEvent.objects.filter(
            **{f"ticket__{area_column}": region.pk},
            action=Action.ESCALATE,
            at__gte=previous_start,
            at__lt=end,
        )
        .values("ticket__place_community_id", "ticket__place_grid_id")
        .annotate(
            current_escalated=Count(
                "ticket_id", distinct=True, filter=Q(at__gte=start)
            ),
            previous_escalated=Count(
                "ticket_id", distinct=True, filter=Q(at__lt=start)
            ),
        )
        .order_by()
    )

    def book(community_id, grid_id, counts_of):
        targets = [area]
        if community_id in by_pk and region.level != RegionLevel.COMMUNITY:
            targets.append(by_pk[community_id])
        if grid_id in by_pk:
            targets.append(by_pk[grid_id])
        for which in ("current", "previous"):
            counts = counts_of(which)
            for node in targets:
                node.add(which, counts)

    for row in ticket_rows:
        book(
            row["place_community_id"],
            row["place_grid_id"],
            lambda which, row=row: {
                key: row[f"{which}_{key}"] for key in filters["current"]
            },
        )
    for row in escalation_rows:
        book(
            row["ticket__place_community_id"],
            row["ticket__place_grid_id"],
            lambda which, row=row: {"escalated": row[f"{which}_escalated"]},
        )

    # Patrols: the entries per place and local day, placed on their grid and
    # community by the MPTT range.
    patrol_rows = (
        Patrol.objects.filter(
            subtree_q(region, "region"),
            occurred_at__gte=previous_start,
            occurred_at__lt=end,
        )
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_default_timezone()))
        .values("region__lft", "day")
        .annotate(entries=Count("pk"))
        .order_by()
    )
    for row in patrol_rows:
        which = "current" if row["day"] >= monday else "previous"
        targets = [area]
        community = _containing(communities, community_lefts, row["region__lft"])
        grid = _containing(grids, grid_lefts, row["region__lft"])
        targets += [node for node in (community, grid) if node is not None]
        for node in targets:
            node.add(which, {"patrols": row["entries"]})
            node.days[which].add(row["day"])
    for node in (area, *communities, *grids):
        node.close_days()

    worst_by = min(end, now)
    worst = list(
        Ticket.objects.filter(
            **{area_column: region.pk},
            handling_due_at__lt=worst_by,
            received_at__lt=worst_by,
        )
        .exclude(stage=Stage.MERGED)
        .filter(Q(handled_at__isnull=True) | Q(handled_at__gt=worst_by))
        .select_related("region", "category")
        .order_by("handling_due_at", "pk")[:WORST_OVERDUE]
    )
    for ticket in worst:
        ticket.days_overdue = (worst_by - ticket.handling_due_at).days
    return {
        "region": region,
        "monday": monday,
        "sunday": monday + dt.timedelta(days=6),
        "iso": monday.isocalendar(),
        "start": start,
        "end": end,
        "area": area,
        "communities": communities,
        "grids": grids,
        "worst": worst,
        "is_running": start <= now < end,
    }


# --- months ------------------------------------------------------------------------


def monthly_ranking(*, actor, region: Region, month: dt.date) -> dict:
    """月评比 of ``region`` (a district, a street or a community) for ``month``:
    the ratings ranked by score with their class and last month's, 十佳/十差
    (``best_and_worst``), the movers (``rating_movers``), the class counts and
    each street's publication. Six queries whatever the number of grids."""
    require_in_scope(actor, region)
    _require_level(region, RANKING_LEVELS)
    month = month_start(month)
    previous = GridRating.objects.filter(
        grid=OuterRef("grid"), month=previous_month(month)
    )
    ratings = list(
        ratings_visible(actor=actor, month=month, region=region)
        .select_related("grid__parent")
        .annotate(
            previous_class=Subquery(previous.values("rating_class")[:1]),
            previous_score=Subquery(previous.values("score")[:1]),
        )
        .order_by(F("score").desc(nulls_last=True), "grid_id")
    )
    counts = dict.fromkeys(RatingClass.values, 0)
    for rating in ratings:
        if rating.rating_class:
            counts[rating.rating_class] += 1
    tops = best_and_worst(actor=actor, region=region, month=month)
    movers = list(rating_movers(actor=actor, month=month, region=region))
    best_ids = {r.pk for r in tops["best"]}
    worst_ids = {r.pk for r in tops["worst"]} - best_ids
    for rating in ratings:
        rating.is_best = rating.pk in best_ids
        rating.is_worst = rating.pk in worst_ids
    streets = _streets_of(region)
    published = {
        p.street_id: p
        for p in RatingPublication.objects.filter(
            month=month, street_id__in=[s.pk for s in streets]
        ).select_related("published_by")
    }
    return {
        "region": region,
        "month": month,
        "previous_month": previous_month(month),
        "ratings": ratings,
        "counts": counts,
        "best": tops["best"],
        "worst": tops["worst"],
        "movers": movers,
        "streets": [(street, published.get(street.pk)) for street in streets],
        "all_published": bool(streets) and len(published) == len(streets),
    }


def _streets_of(region: Region) -> list[Region]:
    """The streets whose publication a ranking of ``region`` shows: its own
    street, or the streets under a district (one query)."""
    if region.level == RegionLevel.DISTRICT:
        return list(
            Region.objects.filter(subtree_q(region), level=RegionLevel.STREET).order_by(
                "lft"
            )
        )
    return list(
        Region.objects.filter(
            ancestors_or_self_q(region), level=RegionLevel.STREET
        ).order_by("lft")
    )


def yearly_summary(*, actor, region: Region, year: int) -> dict:
    """年奖惩 of ``region`` for ``year``: per grid the class of each month, the
    count of each class, the average score and the times in 十佳 and 十差 (the
    lists of ``best_and_worst`` for each rated month). Three queries, and two
    for each month rated (at most 27)."""
    require_in_scope(actor, region)
    _require_level(region, RANKING_LEVELS)
    months = [dt.date(year, m, 1) for m in range(1, 13)]
    ratings = GridRating.objects.filter(
        subtree_q(region, "grid"), month__gte=months[0], month__lte=months[-1]
    ).filter(scope_q(actor, "grid"))
    rows = {}
    for row in (
        ratings.values("grid_id", "grid__name", "grid__parent__name")
        .annotate(
            average=Avg("score"),
            rated=Count("pk", filter=Q(score__isnull=False)),
            **{
                f"class_{c}": Count("pk", filter=Q(rating_class=c))
                for c in RatingClass.values
            },
        )
        .order_by("grid__tree_id", "grid__lft")
    ):
        row["months"] = [""] * 12
        row["best"] = row["worst"] = 0
        rows[row["grid_id"]] = row
    rated_months = set()
    for grid_id, month, rating_class in ratings.values_list(
        "grid_id", "month", "rating_class"
    ):
        rows[grid_id]["months"][month.month - 1] = rating_class or "–"
        rated_months.add(month)
    for month in sorted(rated_months):
        tops = best_and_worst(actor=actor, region=region, month=month)
        for rating in tops["best"]:
            rows[rating.grid_id]["best"] += 1
        best = {rating.pk for rating in tops["best"]}
        # A grid in both lists (a street of ten grids or fewer) counts as best.
        for rating in tops["worst"]:
            if rating.pk not in best:
                rows[rating.grid_id]["worst"] += 1
    return {
        "region": region,
        "year": year,
        "months": months,
        "rows": list(rows.values()),
        "rated_months": sorted(rated_months),
    }


# --- the grid page -----------------------------------------------------------------


def grid_profile(*, actor, grid: Region, month: dt.date) -> dict:
    """A grid's page: its indicators of ``month`` and the month before, its
    rating of every month with appeals, decisions and class changes, the
    current roster (phones masked) and the party organisations over it. Eight
    queries."""
    require_in_scope(actor, grid)
    _require_level(grid, (RegionLevel.GRID,))
    month = month_start(month)
    last = previous_month(month)
    current_rows = indicators_for_nodes(
        node_ids=[grid.pk], month=month, level=RegionLevel.GRID
    )
    last_rows = indicators_for_nodes(
        node_ids=[grid.pk], month=last, level=RegionLevel.GRID
    )
    current = current_rows[0] if current_rows else {}
    previous = last_rows[0] if last_rows else {}
    labels = indicator_labels()
    indicators = [
        (labels[key], share(current.get(key)), share(previous.get(key)))
        for key in GRID_PAGE_RATES
    ]
    figures = [
        (labels[key], current.get(key, "–"), previous.get(key, "–"))
        for key in (
            "received",
            "closed",
            "unevaluated",
            "patrol_days",
            "households_visited",
            "households",
        )
    ]
    history = list(
        GridRating.objects.filter(grid=grid)
        .order_by("-month")
        .prefetch_related(
            Prefetch(
                "appeals",
                queryset=RatingAppeal.objects.select_related("decision").order_by(
                    "filed_at", "pk"
                ),
            ),
            "class_changes",
        )
    )
    roster = list(
        GridAssignment.objects.filter(grid=grid)
        .current()
        .select_related("worker")
        .order_by("role", "worker__name")
    )
    for stint in roster:
        stint.masked_phone = mask_phone(stint.worker.phone)
    party = list(
        PartyOrg.objects.filter(is_active=True)
        .filter(
            subtree_q(grid, "region")
            | Q(region_id=grid.parent_id, region__level=RegionLevel.COMMUNITY)
        )
        .select_related("region")
        .order_by("tree_id", "lft")
    )
    return {
        "grid": grid,
        "month": month,
        "previous_month": last,
        "indicators": indicators,
        "has_indicators": bool(current_rows),
        "figures": figures,
        "history": history,
        "roster": roster,
        "party": party,
    }


def share(value) -> str:
    """A rate as a percentage for display ("–" when there is no data)."""
    if value is None or value == "":
        return "–"
    return f"{Decimal(str(value)) * 100:.1f}%"


def indicator_labels() -> dict:
    """The translated name of each indicator the pages show."""
    return {
        "response_rate": _("Response rate (accepted in time)"),
        "resolution_rate": _("Resolution rate"),
        "on_time_rate": _("On-time rate"),
        "satisfaction_rate": _("Satisfaction rate"),
        "rework_rate": _("Rework rate"),
        "escalation_rate": _("Escalation rate"),
        "report_up_rate": _("Report-up rate"),
        "grid_closure_share": _("Closed within the grid"),
        "community_closure_share": _("Closed within the community"),
        "patrol_day_rate": _("Days with a patrol"),
        "visit_coverage": _("Households visited"),
        "points_participation": _("Points participation"),
        "received": _("Tickets received"),
        "closed": _("Tickets closed"),
        "unevaluated": _("Closed without a verdict"),
        "patrol_days": _("Patrol days"),
        "households_visited": _("Households visited (count)"),
        "households": _("Households"),
    }
