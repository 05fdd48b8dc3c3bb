"""The rating's scores, classes and ranks as one set-based statement
(PostgreSQL): ``rate_grids`` materialises the month's indicator rows of every
active grid into a temporary table (``INDICATOR_LOAD_TABLE``, one pass of
``governance.indicators``), then one ``INSERT … SELECT`` scores the grids of
the streets being rated and writes their ratings, and one more upserts the
grids' dashboard summaries (``IndicatorMonth``) from the same rows.

The formulas are those of ``governance.services`` (its docstring; the Python
functions ``_smoothed_values``, ``_score``, ``_survey_values``,
``mixed_score``, ``classes_by_quota`` remain the reference and SQLite's path),
written here per grid with window functions over its street:

- the street's pooled rate of each ticket indicator: ``sum(numerator) OVER
  street / sum(denominator) OVER street``;
- smoothing below ``min_tickets``: ``(numerator + k·m) / (count + k)``;
- the indicator score: ``round(100 · Σ wᵢ·vᵢ / Σ wᵢ, 2)`` over the weighted
  indicators the grid has (``1 − v`` for the lower-is-better rates);
- the survey value and its smoothing, the mixed score;
- the quota class from the grids scoring above (``rank() OVER street − 1``), the
  grids tied (``count(*) OVER (street, score)``) and below; the competition
  rank ``1 + above``; the number scored ``count(score) OVER street``.

Each step that computes values ends in ``OFFSET 0``, which keeps it a
subquery of its own: pulled up, the planner would repeat each value's
expression in every later one that uses it (4 s for 4,900 grids instead of a
tenth of that); ``MATERIALIZED`` would write each step's rows to a tuplestore.
The steps carry only what the next ones need; the counts are read back from
the load table for the stored JSON. Decimal arithmetic in ``numeric`` with 30 decimals in every quotient (Python's
``Decimal`` keeps 28 significant digits: the stored floats and the scores
rounded to the cent are the same); ``round`` rounds half away from zero, as
``ROUND_HALF_UP`` does for the non-negative scores.
"""

from .indicators import OTHER_COUNTS, RATES, TICKET_COUNTS, TICKET_RATES

INDICATOR_LOAD_TABLE = "governance_indicator_load"
# The count columns of the indicators' rows (``indicators.indicator_query``).
INDICATOR_COLUMNS = ("days", *TICKET_COUNTS, *OTHER_COUNTS, "service_hours")

# The counts a grid's rating keeps (``indicators["counts"]``), as the Python path
# stores them (``services._count_keys``): the indicator row's counts and the
# derived ones of ``indicators.add_rates``.
DERIVED_COUNTS = (
    "extensions",
    "due_net",
    "verdicts",
    "satisfaction_points",
    "closed_within_community",
)


def _num(expression: str) -> str:
    """A count as a numeric with 30 decimals: the quotients keep them, as
    Python's Decimal keeps 28 digits (PostgreSQL's division alone keeps 16
    significant digits, which moves the last bit of some stored floats)."""
    return f"({expression})::numeric(40, 30)"


def _json_object(pairs) -> str:
    return "jsonb_build_object(" + ", ".join(f"'{k}', {v}" for k, v in pairs) + ")"


def scoring_sql(count_columns: list[str]) -> str:
    """The ``INSERT … SELECT`` writing the ratings of the grids named by the
    parameters ``grids``, ``streets``, ``rule_sets`` (arrays, one element a
    grid) from the indicator load table. ``count_columns``: the load table's
    count columns in their order. Parameters also ``month``, ``quarter`` (the
    survey periods' starts), ``now``."""
    ticket_rates = [key for key in RATES if key in TICKET_RATES]
    pooled = ", ".join(
        f"sum({RATES[key][1]}) OVER street AS {key}_sn,"
        f" sum({RATES[key][2]}) OVER street AS {key}_sd"
        for key in ticket_rates
    )
    raw = ", ".join(
        f"CASE WHEN {den} <> 0 THEN {_num(num)} / {den} END AS {key}_raw"
        for key, (_high, num, den) in RATES.items()
    )
    smoothing = ", ".join(
        f"({RATES[key][2]} < min_tickets AND {key}_sd <> 0 AND k <> 0) AS {key}_sm"
        for key in ticket_rates
    )
    values = ", ".join(
        (
            f"CASE WHEN {key}_sm THEN ({_num(RATES[key][1])}"
            f" + k * {_num(key + '_sn')} / {key}_sd) / ({RATES[key][2]} + k) ELSE {key}_raw END AS {key}_v"
        )
        if key in TICKET_RATES
        else f"{key}_raw AS {key}_v"
        for key in RATES
    )
    # Σ wᵢ·vᵢ and Σ wᵢ over the indicators the grid has with a weight.
    weighted = " + ".join(
        f"CASE WHEN {key}_v IS NOT NULL THEN {key}_w * "
        + (f"{key}_v" if high else f"(1 - {key}_v)")
        + " ELSE 0 END"
        for key, (high, _num_, _den) in RATES.items()
    )
    total = " + ".join(
        f"CASE WHEN {key}_v IS NOT NULL THEN {key}_w ELSE 0 END" for key in RATES
    )
    weights = ", ".join(
        f"COALESCE((r.weights ->> '{key}')::numeric, 0) AS {key}_w" for key in RATES
    )
    # The smoothed names, sorted as Python sorts them.
    smoothed_keys = sorted([*ticket_rates, "survey"])
    smoothed = (
        "to_jsonb(array_remove(ARRAY["
        + ", ".join(
            "CASE WHEN survey_sm AND survey_weight <> 0 THEN 'survey' END"
            if key == "survey"
            else f"CASE WHEN {key}_sm THEN '{key}' END"
            for key in smoothed_keys
        )
        + "]::text[], NULL))"
    )
    is_smoothed = " OR ".join(
        [f"{key}_sm" for key in ticket_rates] + ["(survey_sm AND survey_weight <> 0)"]
    )
    counts = _json_object(
        [
            *(
                (c, "NULL::numeric" if c == "service_hours" else f"l.{c}")
                for c in count_columns
            ),
            ("extensions", "0"),
            ("due_net", "c.due_net"),
            ("verdicts", "c.verdicts"),
            ("satisfaction_points", "c.satisfaction_points::float8"),
            ("closed_within_community", "c.closed_within_community"),
        ]
    )
    indicators = _json_object(
        [
            *((key, f"{key}_v::float8") for key in RATES),
            ("raw", _json_object((key, f"{key}_raw::float8") for key in RATES)),
            ("counts", counts),
            ("indicator_score", "indicator_score::float8"),
            (
                "survey",
                _json_object(
                    [
                        ("period", "survey_period"),
                        ("answers", "answers"),
                        ("points", "points"),
                        ("raw", "survey_raw::float8"),
                        ("value", "survey_v::float8"),
                        ("smoothed", "survey_sm"),
                    ]
                ),
            ),
        ]
    )
    derived = ("due_net", "verdicts", "satisfaction_points", "closed_within_community")
    needed = ", ".join(
        sorted(
            {f"l.{c}" for _h, num, den in RATES.values() for c in (num, den)}
            - {f"l.{c}" for c in derived}
        )
    )
    return f"""
    WITH areas AS (
        SELECT * FROM unnest(%(grids)s::bigint[], %(streets)s::bigint[],
            %(rule_sets)s::bigint[]) AS a(grid_id, street_id, rule_set_id)
    ),
    surveys AS (
        SELECT grid_id, period_kind, count(*) AS answers,
            sum(attitude + conduct + effect) AS points
        FROM governance_surveyanswer
        WHERE (period_kind = 'month' AND period_start = %(month)s)
            OR (period_kind = 'quarter' AND period_start = %(quarter)s)
        GROUP BY 1, 2
    ),
    base AS (
        SELECT l.node_id, a.street_id, r.id AS rule_set_id,
            r.version AS rule_set_version, r.method, r.a_share, r.c_share,
            r.a_threshold, r.c_threshold, r.min_tickets,
            r.smoothing_strength AS k, r.survey_weight, r.survey_period,
            {needed},
            l.due AS due_net,
            l.satisfied + l.ordinary + l.dissatisfied AS verdicts,
            l.satisfied + r.ordinary_weight * l.ordinary AS satisfaction_points,
            l.closed_grid + l.closed_community AS closed_within_community,
            COALESCE(sv.answers, 0) AS answers, COALESCE(sv.points, 0) AS points,
            {weights}
        FROM {INDICATOR_LOAD_TABLE} l
        JOIN areas a ON a.grid_id = l.node_id
        JOIN governance_ratingruleset r ON r.id = a.rule_set_id
        LEFT JOIN surveys sv
            ON sv.grid_id = l.node_id AND sv.period_kind = r.survey_period
    ),
    pooled AS (
        SELECT b.*, {pooled},
            sum(answers) OVER street AS answers_sum,
            sum(points) OVER street AS points_sum
        FROM base b
        WINDOW street AS (PARTITION BY street_id)
    ),
    flagged AS (
        SELECT p.*, {raw}, {smoothing},
            CASE WHEN answers <> 0
                THEN ({_num("points")} / (3 * answers) - 1) / 4 END AS survey_raw,
            CASE WHEN answers_sum <> 0
                THEN ({_num("points_sum")} / (3 * answers_sum) - 1) / 4
                END AS survey_mean,
            (answers < min_tickets AND answers_sum <> 0 AND k <> 0) AS survey_sm
        FROM pooled p
        OFFSET 0
    ),
    valued AS (
        SELECT f.*, {values},
            CASE WHEN survey_sm
                THEN (({_num("points")} / 3 - answers) / 4 + k * survey_mean)
                    / (answers + k)
                ELSE survey_raw END AS survey_v
        FROM flagged f
        OFFSET 0
    ),
    indicator_scored AS (
        SELECT v.*, CASE WHEN ({total}) <> 0
            THEN round(100 * ({weighted}) / ({total}), 2) END AS indicator_score
        FROM valued v
        OFFSET 0
    ),
    scored AS (
        SELECT i.*, CASE
            WHEN survey_v IS NULL OR survey_weight = 0 THEN indicator_score
            WHEN indicator_score IS NULL THEN round(100 * survey_v, 2)
            ELSE round((1 - survey_weight / 100.0) * indicator_score
                + survey_weight / 100.0 * 100 * survey_v, 2)
            END AS score
        FROM indicator_scored i
        OFFSET 0
    ),
    ranked AS (
        SELECT s.*,
            count(score) OVER (PARTITION BY street_id) AS scored_count,
            rank() OVER (PARTITION BY street_id ORDER BY score DESC NULLS LAST) - 1
                AS above,
            count(*) OVER (PARTITION BY street_id, score) AS tied
        FROM scored s
    ),
    classed AS (
        SELECT r.*, CASE
            WHEN score IS NULL THEN ''
            WHEN method = 'quotas' THEN CASE
                WHEN above + tied <= scored_count * a_share / 100 THEN 'A'
                WHEN scored_count - above <= scored_count * c_share / 100 THEN 'C'
                ELSE 'B' END
            WHEN score >= a_threshold THEN 'A'
            WHEN score < c_threshold THEN 'C'
            ELSE 'B' END AS rating_class
        FROM ranked r
        OFFSET 0
    )
    INSERT INTO governance_gridrating (grid_id, street_id, month, rule_set_id,
        rule_set_version, score, computed_class, rating_class, rank_in_street,
        grids_in_street, indicators, smoothed, is_smoothed, state, computed_at)
    SELECT c.node_id, c.street_id, %(month)s, c.rule_set_id, c.rule_set_version,
        c.score, c.rating_class, c.rating_class,
        CASE WHEN c.score IS NOT NULL THEN c.above + 1 END, c.scored_count,
        {indicators}, {smoothed}, {is_smoothed}, 'draft', %(now)s
    FROM classed c JOIN {INDICATOR_LOAD_TABLE} l ON l.node_id = c.node_id
    ON CONFLICT (grid_id, month) DO NOTHING
    """


def grid_summaries_sql(count_keys: list[str]) -> str:
    """The upsert of the grids' ``IndicatorMonth`` rows from the indicator load
    table, with their tickets received in the month by category and by stage
    (``dashboard.ticket_breakdown``'s figures). Parameters ``month``,
    ``start``, ``end``, ``now``."""
    counts = _json_object(
        (key, "NULL::numeric" if key == "service_hours" else f"l.{key}")
        for key in count_keys
    )
    return f"""
    WITH received AS (
        SELECT t.place_grid_id AS node_id, t.category_id, t.stage,
            count(*) AS n
        FROM tickets_ticket t
        JOIN {INDICATOR_LOAD_TABLE} l ON l.node_id = t.place_grid_id
        WHERE t.received_at >= %(start)s AND t.received_at < %(end)s
        GROUP BY 1, 2, 3
    ),
    by_category AS (
        SELECT node_id, jsonb_object_agg(category, n) AS by_category
        FROM (
            SELECT node_id, COALESCE(category_id::text, '') AS category,
                sum(n)::bigint AS n
            FROM received WHERE stage <> 'merged' GROUP BY 1, 2
        ) c
        GROUP BY 1
    ),
    by_stage AS (
        SELECT node_id, jsonb_object_agg(stage, n) AS by_stage
        FROM (
            SELECT node_id, stage, sum(n)::bigint AS n FROM received GROUP BY 1, 2
        ) s
        GROUP BY 1
    )
    INSERT INTO governance_indicatormonth (region_id, month, counts, by_category,
        by_stage, computed_at)
    SELECT l.node_id, %(month)s, {counts},
        COALESCE(c.by_category, '{{}}'::jsonb), COALESCE(s.by_stage, '{{}}'::jsonb),
        %(now)s
    FROM {INDICATOR_LOAD_TABLE} l
    LEFT JOIN by_category c ON c.node_id = l.node_id
    LEFT JOIN by_stage s ON s.node_id = l.node_id
    ON CONFLICT (region_id, month) DO UPDATE SET counts = EXCLUDED.counts,
        by_category = EXCLUDED.by_category, by_stage = EXCLUDED.by_stage,
        computed_at = EXCLUDED.computed_at
    """
