"""Writes of the rating: rule-set versions, the monthly ``rate_grids`` job, a
street's publication, appeals and their decisions. Each is one transaction;
the rating job takes a PostgreSQL advisory lock on its month, so two runs at
once queue one behind the other and the second finds the first one's result.

How a grid is rated (docs/domain-rules.md "Grid rating"):

1. Its indicators of the month (``governance.indicators``, one query for all
   grids).
2. Small numbers are not punished: a ticket rate over fewer tickets than the
   rule set's ``min_tickets`` is shrunk toward the street's pooled rate ``m``
   (empirical Bayes with a prior worth ``k`` = ``smoothing_strength`` tickets):
   ``(numerator + k·m) / (count + k)``; it is named in ``smoothed``. A street
   with no ticket at all for that rate gives no prior: the rate stays empty.
3. Indicator score = 100 × Σ wᵢ·vᵢ / Σ wᵢ over the weighted indicators the
   grid has (``vᵢ`` the rate, or 1 − rate for the rates where lower is better:
   rework, escalation, report-up). The residents' survey (以下评上,
   ``governance.survey``) of the period holding the month gives the survey
   value ``u = (mean item − 1) / 4``, shrunk toward the street's pooled value
   below ``min_tickets`` answers; score = (1 − s)·indicator score + s·100·u
   with ``s = survey_weight / 100`` (``mixed_score``): the indicator score alone
   without answers, 100·u alone without indicators; neither: no score and no
   class.
4. Class by thresholds (A at or above ``a_threshold``, C below
   ``c_threshold``), or by quotas within the street: with ``n`` grids scored,
   ``a = ⌊n·a_share/100⌋`` and ``c = ⌊n·c_share/100⌋``; a grid is A when the
   grids scoring above it plus those tied with it (itself included) are at
   most ``a``, C when the grids scoring below it plus those tied with it are at
   most ``c``; otherwise B. Tied grids always share a class, and a tie that
   straddles a quota's edge falls to B: a quota is never exceeded and nobody
   is put in C by a tie. The rank is the competition rank (1 + the grids
   scoring strictly higher).
"""

import datetime as dt
import json
from bisect import bisect_left, bisect_right
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import permissions as grid_permissions
from grids.audit import audit_record
from grids.choices import AuditAction, RegionLevel
from grids.cleaning import validated_save
from grids.errors import Conflict, DomainError
from grids.models import Region
from tickets.places import region_map_sql

from .dialect import (
    column_names,
    db_datetime,
    in_list,
    is_postgresql,
    list_param,
    xact_lock,
)
from .indicators import RATES, TICKET_RATES, _bounds, add_rates, indicator_query
from .models import (
    ClassMethod,
    GridRating,
    RatingAppeal,
    RatingAppealDecision,
    RatingClass,
    RatingClassChange,
    RatingPublication,
    RatingRuleSet,
    RatingState,
    SurveyAnswer,
)
from .permissions import can_appeal, can_keep_rules, can_publish
from .rating_sql import (
    INDICATOR_COLUMNS,
    INDICATOR_LOAD_TABLE,
    grid_summaries_sql,
    scoring_sql,
)

# pg_advisory_xact_lock(class, key): the class names the rating job.
ADVISORY_LOCK_CLASS = 12012
BULK_BATCH = 2000
HUNDRED = Decimal(100)
CENT = Decimal("0.01")

RULE_FIELDS = (
    "weights",
    "method",
    "a_share",
    "c_share",
    "a_threshold",
    "c_threshold",
    "min_tickets",
    "smoothing_strength",
    "ordinary_weight",
    "survey_weight",
    "survey_period",
    "note",
)


def month_of(value: dt.date) -> dt.date:
    return value.replace(day=1)


# --- rule sets -------------------------------------------------------------------


def ruleset_save_version(*, actor, region: Region | None, **values) -> RatingRuleSet:
    """Save a new version of ``region``'s rules (the previous versions stay, as
    the ratings that used them point to them). Street staff for their street or
    district; the shared rules (no region) only an administrator."""
    grid_permissions.require(can_keep_rules(actor))
    if region is None:
        grid_permissions.require(actor.is_superuser)
    else:
        grid_permissions.require_in_scope(actor, region)
        if region.level not in (RegionLevel.STREET, RegionLevel.DISTRICT):
            raise DomainError(
                _("Rules are kept for a street or a district."), code="invalid_region"
            )
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown rule fields: {sorted(unknown)}")
    with transaction.atomic():
        # Versions of one area are numbered in order: lock the area's chain.
        if region is not None:
            Region.objects.select_for_update().filter(pk=region.pk).first()
        latest = RatingRuleSet.objects.filter(region=region).aggregate(
            v=Max("version")
        )["v"]
        rule_set = RatingRuleSet(
            region=region, version=(latest or 0) + 1, created_by=actor, **values
        )
        validated_save(
            rule_set,
            conflict_message=_("Another version was saved at the same time."),
        )
        audit_record(actor=actor, instance=rule_set, action=AuditAction.CREATE)
    return rule_set


def _rule_sets_by_area() -> dict[int | None, RatingRuleSet]:
    """The newest version of every area's rules (one query)."""
    if not is_postgresql():  # no DISTINCT ON: every version, the newest last
        return {
            rule_set.region_id: rule_set
            for rule_set in RatingRuleSet.objects.order_by("region_id", "version")
        }
    return {
        rule_set.region_id: rule_set
        for rule_set in RatingRuleSet.objects.order_by(
            "region_id", "-version"
        ).distinct("region_id")
    }


def rule_sets_for_grids(grid_ids) -> list[tuple[int, RatingRuleSet | None]]:
    """(grid id, the rule set that rates it: newest of its street, else of its
    district, else the shared one, else None) for each grid: two queries."""
    grid_ids = [int(pk) for pk in grid_ids]
    if not grid_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            region_map_sql(in_list("r.id")) + " ORDER BY region_id",
            [list_param(grid_ids)],
        )
        rows = cursor.fetchall()
        names = column_names(cursor)
    rule_sets = _rule_sets_by_area()
    result = []
    for values in rows:
        row = dict(zip(names, values, strict=True))
        result.append(
            (
                row["region_id"],
                rule_sets.get(row["street"])
                or rule_sets.get(row["district"])
                or rule_sets.get(None),
            )
        )
    return result


def rule_set_for_region(region: Region) -> RatingRuleSet | None:
    """The rule set that rates the grid ``region``."""
    found = rule_sets_for_grids([region.pk])
    return found[0][1] if found else None


def _shared_rules_ensure() -> RatingRuleSet:
    """The shared rules' first version, with the model's defaults, when no area
    has rules yet (the job needs one; staff save the next versions)."""
    rule_set, created = RatingRuleSet.objects.get_or_create(region=None, version=1)
    if created:
        audit_record(actor=None, instance=rule_set, action=AuditAction.CREATE)
    return rule_set


# --- the rating job --------------------------------------------------------------


# Every active grid with its street and district, from the streets down: one
# index range scan per street (a province: 1,000 streets) instead of an
# ancestor search per grid (20 s at 49,000 grids, bench/bench_ratings.py).
GRIDS_BY_STREET_SQL = """
WITH streets AS MATERIALIZED (
    SELECT s.id, s.tree_id, s.lft, s.rght, (
            SELECT d.id FROM grids_region d
            WHERE d.tree_id = s.tree_id AND d.level = 'district'
                AND d.lft < s.lft AND d.rght > s.rght
            ORDER BY d.lft DESC LIMIT 1
        ) AS district
    FROM grids_region s WHERE s.level = 'street'
)
SELECT g.id AS region_id, s.id AS street, s.district
FROM streets s
JOIN grids_region g ON g.tree_id = s.tree_id AND g.lft > s.lft AND g.lft < s.rght
WHERE g.level = 'grid' AND g.is_active
"""


def _grids_with_areas(published: set[int]) -> list[dict]:
    """Every active grid with its street and district (one query; a second,
    slower one only when some active grid has no street above it), less the
    grids of streets that published the month."""
    with connection.cursor() as cursor:
        cursor.execute(GRIDS_BY_STREET_SQL)
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM grids_region WHERE level = 'grid' AND is_active"
        )
        (active,) = cursor.fetchone()
        if active != len(rows):
            cursor.execute(region_map_sql("r.level = 'grid' AND r.is_active"))
            names = column_names(cursor)
            found = [dict(zip(names, v, strict=True)) for v in cursor.fetchall()]
            rows = [(r["region_id"], r["street"], r["district"]) for r in found]
    return [
        {"region_id": grid, "street": street, "district": district}
        for grid, street, district in rows
        if street not in published
    ]


def _pooled_means(rows: list[dict]) -> dict[str, Decimal | None]:
    """The street's pooled rate of each ticket indicator: Σ numerators / Σ
    denominators over its grids (None when the street has no such ticket)."""
    means = {}
    for key in TICKET_RATES:
        _high, numerator, denominator = RATES[key]
        total = sum(row[denominator] for row in rows)
        means[key] = (
            Decimal(sum(row[numerator] for row in rows)) / Decimal(total)
            if total
            else None
        )
    return means


def _smoothed_values(row, means, rule_set) -> tuple[dict, list[str]]:
    values, smoothed = {}, []
    strength = Decimal(rule_set.smoothing_strength)
    for key, (_high, numerator, denominator) in RATES.items():
        value = row[key]
        count = row[denominator]
        if key in TICKET_RATES and count < rule_set.min_tickets:
            mean = means[key]
            # No prior (the street has no such ticket) or no strength: a grid
            # without tickets has no value; one with a few keeps its own.
            if mean is not None and strength:
                value = (Decimal(row[numerator]) + strength * mean) / (
                    Decimal(count) + strength
                )
                smoothed.append(key)
        values[key] = value
    return values, sorted(smoothed)


def _score(values: dict, weights: dict) -> Decimal | None:
    total = weighted = Decimal(0)
    for key, weight in weights.items():
        value = values.get(key)
        if value is None or not weight:
            continue
        weight = Decimal(str(weight))
        higher_is_better = RATES[key][0]
        weighted += weight * (value if higher_is_better else 1 - value)
        total += weight
    if not total:
        return None
    return (HUNDRED * weighted / total).quantize(CENT, rounding=ROUND_HALF_UP)


def classes_by_quota(scores: list[Decimal], a_share: int, c_share: int) -> list[str]:
    """The class of each score by the street's quotas (ties share a class; a tie
    across a quota's edge falls to B). See the module docstring."""
    n = len(scores)
    a_quota = n * a_share // 100
    c_quota = n * c_share // 100
    ordered = sorted(scores)
    classes = []
    for score in scores:
        below = bisect_left(ordered, score)
        not_above = bisect_right(ordered, score)
        above, tied = n - not_above, not_above - below
        if above + tied <= a_quota:
            classes.append(RatingClass.A)
        elif below + tied <= c_quota:
            classes.append(RatingClass.C)
        else:
            classes.append(RatingClass.B)
    return classes


def _class_by_threshold(score: Decimal, rule_set: RatingRuleSet) -> str:
    if score >= rule_set.a_threshold:
        return RatingClass.A
    if score < rule_set.c_threshold:
        return RatingClass.C
    return RatingClass.B


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def _survey_values(rows, surveys, rule_set) -> dict[int, dict]:
    """Each grid's survey of the period holding the month (the rule set's
    ``survey_period``): answers, sum of items, value ``(mean item − 1) / 4``,
    shrunk toward the street's pooled value below ``min_tickets`` answers with
    the same strength as the ticket rates."""
    kind = rule_set.survey_period
    stats = {
        row["node_id"]: surveys.get((row["node_id"], kind), (0, 0)) for row in rows
    }
    total_answers = sum(answers for answers, _points in stats.values())
    total_points = sum(points for _answers, points in stats.values())
    mean = (
        (Decimal(total_points) / Decimal(3 * total_answers) - 1) / 4
        if total_answers
        else None
    )
    strength = Decimal(rule_set.smoothing_strength)
    values = {}
    for grid_id, (answers, points) in stats.items():
        raw = (Decimal(points) / Decimal(3 * answers) - 1) / 4 if answers else None
        value, smoothed = raw, False
        if answers < rule_set.min_tickets and mean is not None and strength:
            # Each answer's value is (its mean item − 1) / 4; the prior is
            # worth ``strength`` answers at the street's pooled value.
            answer_sum = (Decimal(points) / 3 - answers) / 4
            value = (answer_sum + strength * mean) / (Decimal(answers) + strength)
            smoothed = True
        values[grid_id] = {
            "period": kind,
            "answers": answers,
            "points": points,
            "raw": raw,
            "value": value,
            "smoothed": smoothed,
        }
    return values


def mixed_score(
    indicator_score: Decimal | None, survey_value: Decimal | None, survey_weight: int
) -> Decimal | None:
    """The grid score: ``(1 − s)·indicators + s·100·survey`` with ``s`` the rule
    set's ``survey_weight`` / 100; the indicators alone when the grid has no
    survey value (or ``s`` is 0), the survey alone when it has no indicator."""
    if survey_value is None or not survey_weight:
        return indicator_score
    survey_score = HUNDRED * survey_value
    if indicator_score is None:
        return survey_score.quantize(CENT, rounding=ROUND_HALF_UP)
    share = Decimal(survey_weight) / HUNDRED
    return ((1 - share) * indicator_score + share * survey_score).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


def _rate_street(
    rows, rule_set, *, month, street_id, now, surveys=None
) -> list[GridRating]:
    for row in rows:
        add_rates(row, ordinary_weight=rule_set.ordinary_weight)
    means = _pooled_means(rows)
    survey = _survey_values(rows, surveys or {}, rule_set)
    scored = []
    for row in rows:
        values, smoothed = _smoothed_values(row, means, rule_set)
        indicator_score = _score(values, rule_set.weights)
        grid_survey = survey[row["node_id"]]
        score = mixed_score(
            indicator_score, grid_survey["value"], rule_set.survey_weight
        )
        if grid_survey["smoothed"] and rule_set.survey_weight:
            smoothed = sorted([*smoothed, "survey"])
        row["_indicator_score"] = indicator_score
        row["_survey"] = grid_survey
        scored.append((row, values, smoothed, score))
    scores = [score for *_rest, score in scored if score is not None]
    ordered = sorted(scores)
    if rule_set.method == ClassMethod.QUOTAS:
        by_quota = dict(
            zip(
                scores,
                classes_by_quota(scores, rule_set.a_share, rule_set.c_share),
                strict=True,
            )
        )
    ratings = []
    for row, values, smoothed, score in scored:
        if score is None:
            rating_class, rank = "", None
        else:
            rank = 1 + len(ordered) - bisect_right(ordered, score)
            rating_class = (
                by_quota[score]
                if rule_set.method == ClassMethod.QUOTAS
                else _class_by_threshold(score, rule_set)
            )
        indicators = {key: _plain(values[key]) for key in RATES}
        indicators["raw"] = {key: _plain(row[key]) for key in RATES}
        indicators["counts"] = {key: _plain(row[key]) for key in _count_keys(row)}
        indicators["indicator_score"] = _plain(row["_indicator_score"])
        indicators["survey"] = {k: _plain(v) for k, v in row["_survey"].items()}
        # The row in RATING_COLUMNS' order (_insert_rows).
        ratings.append(
            (
                row["node_id"],
                street_id,
                month,
                rule_set.pk,
                rule_set.version,
                score,
                rating_class,
                rating_class,
                rank,
                len(scores),
                json.dumps(indicators, ensure_ascii=False),
                json.dumps(smoothed),
                bool(smoothed),
                RatingState.DRAFT,
                now,
            )
        )
    return ratings


_COUNT_KEYS: dict[tuple, tuple] = {}


def _count_keys(row: dict) -> tuple:
    """The keys of a row's counts (all but the rates and the row's own keys),
    worked out once per shape of row."""
    shape = tuple(row)
    if shape not in _COUNT_KEYS:
        _COUNT_KEYS[shape] = tuple(
            key
            for key in shape
            if key not in RATES
            and key not in ("node_id", "level")
            and not key.startswith("_")
        )
    return _COUNT_KEYS[shape]


def _survey_counts(month: dt.date) -> dict[tuple[int, str], tuple[int, int]]:
    """(grid, period kind) → (answers, sum of the three items) of the survey
    periods holding ``month``, a month's and a quarter's (one query)."""
    from .survey import period_start

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT grid_id, period_kind, count(*),"
            f" sum(attitude + conduct + effect)"
            f" FROM {SurveyAnswer._meta.db_table}"
            " WHERE (period_kind = 'month' AND period_start = %s)"
            " OR (period_kind = 'quarter' AND period_start = %s)"
            " GROUP BY 1, 2",
            [month, period_start(month, "quarter")],
        )
        return {
            (grid_id, kind): (answers, int(points))
            for grid_id, kind, answers, points in cursor.fetchall()
        }


INDICATOR_FETCH = 2000


def _indicator_rows_by_street(grids: dict, month: dt.date):
    """(street id, its grids' indicator rows) street after street, streamed
    from the indicators' one statement through a server-side cursor: the rows
    come in tree order, where a street's grids are contiguous, so only one
    street's rows are held at a time (49,000 grids' rows at once would not
    fit the job's memory budget)."""
    if not grids:
        return
    sql, params = indicator_query(
        node_ids=list(grids), month=month, level=RegionLevel.GRID
    )
    street_id, street_rows, done = None, [], set()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        names = None
        while True:
            batch = cursor.fetchmany(INDICATOR_FETCH)
            if not batch:
                break
            if names is None:
                names = column_names(cursor)
            for values in batch:
                row = dict(zip(names, values, strict=True))
                street = grids[row["node_id"]][0]
                if street != street_id and street_rows:
                    done.add(street_id)
                    yield street_id, street_rows
                    street_rows = []
                if street in done:  # tree order keeps a street's grids together
                    raise RuntimeError(f"street {street} came back in tree order")
                street_id = street
                street_rows.append(row)
    if street_rows:
        yield street_id, street_rows


RATING_COLUMNS = (
    "grid_id",
    "street_id",
    "month",
    "rule_set_id",
    "rule_set_version",
    "score",
    "computed_class",
    "rating_class",
    "rank_in_street",
    "grids_in_street",
    "indicators",
    "smoothed",
    "is_smoothed",
    "state",
    "computed_at",
)


def _insert_rows(cursor, ratings: list[tuple]) -> int:
    """A batch of rating rows straight into the table (SQLite, whose writers
    are serialised); a grid of a published street keeps its row (ON CONFLICT
    DO NOTHING)."""
    if not ratings:
        return 0
    computed_at = RATING_COLUMNS.index("computed_at")
    rows = [
        (
            *rating[:computed_at],
            db_datetime(rating[computed_at]),
            *rating[computed_at + 1 :],
        )
        for rating in ratings
    ]
    cursor.executemany(
        f"INSERT INTO {GridRating._meta.db_table} ({', '.join(RATING_COLUMNS)})"
        f" VALUES ({', '.join(['%s'] * len(RATING_COLUMNS))})"
        " ON CONFLICT (grid_id, month) DO NOTHING",
        rows,
    )
    return len(ratings)


def rate_grids(*, month: dt.date, actor=None) -> int:
    """Rate every active grid for ``month`` (the monthly job, and the "re-run
    month" button): replaces the month's draft ratings, leaves the streets that
    published it alone; a month every street has published is frozen
    (Conflict). The same pass writes every active grid's dashboard summary of
    the month (``IndicatorMonth``, published streets' grids included: they are
    the month's figures, not its classes).

    Set-based. On PostgreSQL: one query for the grids, one for the rule sets, a
    delete, the indicators of every grid into a temporary table (one
    statement), the ratings scored, classed and ranked from it by one ``INSERT
    … SELECT`` (``governance.rating_sql``), the grids' summaries upserted from it
    by one more. On SQLite the indicator rows are streamed street by street and
    scored in Python (the reference functions of this module). Returns the
    grids rated."""
    month = month_of(month)
    if actor is not None:
        grid_permissions.require(can_publish(actor))
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            xact_lock(cursor, ADVISORY_LOCK_CLASS, month.year * 100 + month.month)
            # The indicators' statement is costed high over a province (its
            # range joins are misestimated), which turns on JIT compilation:
            # 15 s of compiling for a statement that runs in seconds.
            if is_postgresql():
                cursor.execute("SET LOCAL jit = off")
        published = set(
            RatingPublication.objects.filter(month=month).values_list(
                "street_id", flat=True
            )
        )
        every_grid = {
            row["region_id"]: (row["street"], row["district"])
            for row in _grids_with_areas(set())
        }
        grids = {
            grid: areas
            for grid, areas in every_grid.items()
            if areas[0] not in published
        }
        if published and not grids:
            raise Conflict(
                _("The ratings of %(month)s are published and frozen.")
                % {"month": f"{month:%Y-%m}"},
                code="published",
            )
        rule_sets = _rule_sets_by_area()
        # One statement (the ORM's delete would load the rows to check their
        # appeals; a draft has none, and the foreign keys refuse otherwise).
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {GridRating._meta.db_table}"
                " WHERE month = %s AND state = %s",
                [month, RatingState.DRAFT],
            )

        def rule_set_of(street_id, district_id):
            rule_set = (
                rule_sets.get(street_id)
                or rule_sets.get(district_id)
                or rule_sets.get(None)
            )
            if rule_set is None:
                rule_set = rule_sets[None] = _shared_rules_ensure()
            return rule_set

        if is_postgresql():
            return _rate_in_sql(every_grid, grids, rule_set_of, month=month, now=now)
        return _rate_in_python(every_grid, grids, rule_set_of, month=month, now=now)


def _rate_in_sql(every_grid, grids, rule_set_of, *, month, now) -> int:
    """PostgreSQL: the indicators of every active grid into a temporary table,
    the ratings and the grids' summaries from it (three statements and the
    table's drop; see ``governance.rating_sql``)."""
    from .dashboard import COUNT_KEYS
    from .survey import period_start

    street_rules = {}
    grid_ids, street_ids, rule_set_ids = [], [], []
    for grid, (street, district) in grids.items():
        if street not in street_rules:
            street_rules[street] = rule_set_of(street, district).pk
        grid_ids.append(grid)
        street_ids.append(street)
        rule_set_ids.append(street_rules[street])
    bounds = _bounds(month)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {INDICATOR_LOAD_TABLE}")
        if not every_grid:
            return 0
        sql, params = indicator_query(
            node_ids=list(every_grid), month=month, level=RegionLevel.GRID
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {INDICATOR_LOAD_TABLE} ON COMMIT DROP AS {sql}",
            params,
        )
        cursor.execute(
            scoring_sql(list(INDICATOR_COLUMNS)),
            {
                "grids": grid_ids,
                "streets": street_ids,
                "rule_sets": rule_set_ids,
                "month": month,
                "quarter": period_start(month, "quarter"),
                "now": now,
            },
        )
        rated = cursor.rowcount
        cursor.execute(
            grid_summaries_sql(["service_hours", *COUNT_KEYS]),
            {
                "month": month,
                "start": bounds["start"],
                "end": bounds["end"],
                "now": now,
            },
        )
    return rated


def _rate_in_python(every_grid, grids, rule_set_of, *, month, now) -> int:
    """SQLite (``make run``): the indicator rows streamed street by street,
    scored by this module's functions, inserted in batches; the grids'
    summaries from the same rows."""
    from .dashboard import grid_summaries_write

    surveys = _survey_counts(month)
    pending, rated, summary_rows = [], 0, []
    with connection.cursor() as load:
        for street_id, street_rows in _indicator_rows_by_street(every_grid, month):
            summary_rows += street_rows
            if street_rows[0]["node_id"] not in grids:
                continue  # a published street: its summaries only
            pending += _rate_street(
                street_rows,
                rule_set_of(street_id, grids[street_rows[0]["node_id"]][1]),
                month=month,
                street_id=street_id,
                now=now,
                surveys=surveys,
            )
            if len(pending) >= BULK_BATCH:
                rated += _insert_rows(load, pending)
                pending = []
        rated += _insert_rows(load, pending)
    grid_summaries_write(rows=summary_rows, month=month, now=now)
    return rated


# --- publication and appeals -----------------------------------------------------


def ratings_publish(*, actor, street: Region, month: dt.date) -> int:
    """Publish a street's draft ratings of ``month`` (street staff): they are
    frozen from then on. Returns the ratings published."""
    month = month_of(month)
    grid_permissions.require(can_publish(actor))
    grid_permissions.require_in_scope(actor, street)
    if street.level != RegionLevel.STREET:
        raise DomainError(_("Ratings are published per street."), code="invalid")
    with transaction.atomic():
        with connection.cursor() as cursor:
            xact_lock(cursor, ADVISORY_LOCK_CLASS, month.year * 100 + month.month)
        if RatingPublication.objects.filter(street=street, month=month).exists():
            raise Conflict(_("This month is already published."), code="published")
        drafts = GridRating.objects.filter(
            street=street, month=month, state=RatingState.DRAFT
        )
        count = drafts.update(state=RatingState.PUBLISHED)
        if not count:
            raise Conflict(
                _("There is no draft rating of this month to publish."),
                code="nothing_to_publish",
            )
        RatingPublication.objects.create(
            street=street, month=month, published_by=actor, published_at=timezone.now()
        )
    return count


def _lock_rating(rating_id: int, actor) -> GridRating:
    rating = (
        GridRating.objects.select_for_update(of=("self",))
        .select_related("grid")
        .filter(pk=rating_id)
        .first()
    )
    if rating is None:
        grid_permissions.require_in_scope(actor, None)
    grid_permissions.require_in_scope(actor, rating.grid)
    return rating


def rating_appeal_file(*, actor, rating_id: int, reason: str) -> RatingAppeal:
    """申诉: community staff appeal a published class of a grid of theirs."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the appeal."), code="required")
    grid_permissions.require(can_appeal(actor))
    with transaction.atomic():
        rating = _lock_rating(rating_id, actor)
        if rating.state != RatingState.PUBLISHED:
            raise Conflict(
                _("Only a published rating can be appealed."), code="not_published"
            )
        if rating.appeals.filter(decision__isnull=True).exists():
            raise Conflict(
                _("An appeal of this rating is waiting for a decision."),
                code="appeal_pending",
            )
        return RatingAppeal.objects.create(
            rating=rating, reason=reason, filed_by=actor, filed_at=timezone.now()
        )


def rating_appeal_decide(
    *, actor, appeal_id: int, upheld: bool, note: str, new_class: str = ""
) -> RatingAppealDecision:
    """The street decides an appeal: rejected, or upheld with the class it
    gives; an upheld class is recorded as a class change (history), and the
    rating's class in force follows it."""
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Give the grounds of the decision."), code="required")
    grid_permissions.require(can_publish(actor))
    with transaction.atomic():
        appeal = RatingAppeal.objects.filter(pk=appeal_id).first()
        if appeal is None:
            grid_permissions.require_in_scope(actor, None)
        rating = _lock_rating(appeal.rating_id, actor)
        if RatingAppealDecision.objects.filter(appeal=appeal).exists():
            raise Conflict(_("This appeal is already decided."), code="decided")
        if upheld:
            if new_class not in RatingClass.values:
                raise DomainError(
                    _("Choose the class the appeal gives."), code="invalid"
                )
            if new_class == rating.rating_class:
                raise DomainError(
                    _("The grid is already in this class."), code="invalid"
                )
        else:
            new_class = ""
        now = timezone.now()
        decision = RatingAppealDecision.objects.create(
            appeal=appeal,
            upheld=upheld,
            new_class=new_class,
            note=note,
            decided_by=actor,
            decided_at=now,
        )
        if upheld:
            RatingClassChange.objects.create(
                rating=rating,
                from_class=rating.rating_class,
                to_class=new_class,
                decision=decision,
                at=now,
            )
            rating.rating_class = new_class
            rating.save(update_fields=["rating_class"])
    return decision
