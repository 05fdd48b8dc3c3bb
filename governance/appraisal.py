"""五星级网格员: the five-star appraisal of grid workers (seed 000), per worker
and month, and the manual component staff enter for it.

The formula (docs/domain-rules.md "Five-star grid workers"), for worker ``w``
and month ``m``:

- the worker's grids: every grid on which ``w`` had a stint (any role) on a day
  of ``m``; a micro-grid (building) stint counts for its grid;
- grid component ``G``: the mean of those grids' indicator scores of ``m``
  (``GridRating.indicators["indicator_score"]``, the score before the survey
  is mixed in), over the grids that have one;
- survey component ``S``: ``100 × (mean item − 1) / 4`` over every answer of
  those grids' residents' surveys of the period holding ``m`` (以下评上, pooled,
  not smoothed: the answers as given);
- manual component ``M``: the newest ``WorkerAppraisalInput`` score of ``w``
  and ``m`` (0–100, entered by staff with a reason; the older ones stay as
  history);
- total ``T = Σ wᵢ·xᵢ / Σ wᵢ`` over the components present, with the weights
  ``APPRAISAL_WEIGHTS`` (grid 50, survey 30, manual 20); each component is
  rounded to 0.01 first, and ``T`` too;
- stars: 5 for ``T ≥ 90``, 4 for ``T ≥ 80``, 3 for ``T ≥ 70``, 2 for ``T ≥ 60``,
  else 1; no component at all: no stars.

``workers_appraise`` computes a month for every worker (or a few) in one
INSERT … SELECT, after deleting that month's rows: idempotent, and serialised
with the rating job by the same advisory lock family.
"""

import datetime as dt
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import permissions as grid_permissions
from grids.choices import UserRole
from grids.errors import DomainError, OutOfScope
from grids.models import GridAssignment, GridWorker

from .dialect import (
    cast,
    db_datetime,
    in_list,
    is_postgresql,
    json_text,
    list_param,
    rows_written,
    xact_lock,
)
from .models import WorkerAppraisal, WorkerAppraisalInput

APPRAISAL_WEIGHTS = {"grid": 50, "survey": 30, "manual": 20}
# (stars, lowest total): checked from the top.
STAR_THRESHOLDS = ((5, 90), (4, 80), (3, 70), (2, 60))
ADVISORY_LOCK_CLASS = 12013
REASON_MAX_LENGTH = 1000
# Who enters the manual component: the street's and the community's staff.
APPRAISE_ROLES = frozenset({UserRole.STREET_STAFF, UserRole.COMMUNITY_STAFF})


def can_appraise(user) -> bool:
    return grid_permissions.has_role(user, APPRAISE_ROLES)


def stars_for(total: Decimal | None) -> int | None:
    """The stars of a total (the same rule as the SQL below)."""
    if total is None:
        return None
    for stars, lowest in STAR_THRESHOLDS:
        if total >= lowest:
            return stars
    return 1


def _month(value: dt.date) -> dt.date:
    return value.replace(day=1)


def _following(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


def _per_worker_grids_sql() -> str:
    """A worker's grids (ordered, as a list) and the street of its first
    grid's rating."""
    if is_postgresql():
        return """array_agg(wg.grid_id ORDER BY wg.grid_id) AS grids,
            (array_agg(gr.street_id ORDER BY wg.grid_id))[1] AS rated_street,"""
    # SQLite 3.40 has no ordered aggregate: the list from an ordered subquery.
    return """(SELECT json_group_array(o.grid_id) FROM (SELECT x.grid_id
                FROM worker_grids x WHERE x.worker_id = wg.worker_id
                ORDER BY x.grid_id) o) AS grids,
            max(gr.street_id) FILTER (WHERE wg.grid_id = (SELECT min(x.grid_id)
                FROM worker_grids x WHERE x.worker_id = wg.worker_id))
                AS rated_street,"""


def _newest_input_sql(worker_filter: str) -> str:
    """Each worker's newest manual score of the month."""
    if is_postgresql():
        return f"""
        SELECT DISTINCT ON (i.worker_id) i.worker_id, i.score
        FROM governance_workerappraisalinput i
        WHERE i.month = %(month)s {worker_filter}
        ORDER BY i.worker_id, i.entered_at DESC, i.id DESC"""
    return f"""
        SELECT worker_id, score FROM (
            SELECT i.worker_id, i.score, row_number() OVER (
                PARTITION BY i.worker_id ORDER BY i.entered_at DESC, i.id DESC
            ) AS newest
            FROM governance_workerappraisalinput i
            WHERE i.month = %(month)s {worker_filter}
        ) WHERE newest = 1"""


def _grids_json_sql(column: str) -> str:
    if is_postgresql():
        return f"to_jsonb(COALESCE({column}, '{{}}'::bigint[]))"
    return f"COALESCE({column}, '[]')"


def _appraise_sql(worker_filter: str) -> str:
    weights = APPRAISAL_WEIGHTS
    stars = " ".join(
        f"WHEN total >= {lowest} THEN {count}" for count, lowest in STAR_THRESHOLDS
    )
    score = cast(json_text("gr.indicators", "indicator_score"), "numeric")
    answers = cast(json_text("gr.indicators", "survey", "answers"), "int")
    points = cast(json_text("gr.indicators", "survey", "points"), "int")
    return f"""
    WITH stints AS (
        SELECT a.worker_id,
            CASE WHEN r.level = 'building' THEN r.parent_id ELSE r.id END AS grid_id
        FROM grids_gridassignment a JOIN grids_region r ON r.id = a.grid_id
        WHERE a.started_on < %(following)s
            AND (a.ended_on IS NULL OR a.ended_on >= %(month)s) {worker_filter}
    ),
    worker_grids AS (SELECT DISTINCT worker_id, grid_id FROM stints),
    per_worker AS (
        SELECT wg.worker_id,
            {_per_worker_grids_sql()}
            min(wg.grid_id) AS first_grid,
            round(avg({score}), 2) AS grid_score,
            sum(COALESCE({answers}, 0)) AS answers,
            sum(COALESCE({points}, 0)) AS points
        FROM worker_grids wg
        LEFT JOIN governance_gridrating gr
            ON gr.grid_id = wg.grid_id AND gr.month = %(month)s
        GROUP BY wg.worker_id
    ),
    manual AS ({_newest_input_sql(worker_filter.replace("a.", "i."))}
    ),
    components AS (
        SELECT COALESCE(p.worker_id, m.worker_id) AS worker_id, p.grids,
            p.first_grid,
            p.rated_street,
            p.grid_score,
            CASE WHEN p.answers > 0 THEN
                round(100 * ({cast("p.points", "numeric")} / (3 * p.answers) - 1) / 4, 2)
            END AS survey_score,
            COALESCE(p.answers, 0) AS answers,
            m.score AS manual_score
        FROM per_worker p FULL JOIN manual m ON m.worker_id = p.worker_id
    ),
    totals AS (
        SELECT c.*, round(
            (COALESCE({weights["grid"]} * c.grid_score, 0)
             + COALESCE({weights["survey"]} * c.survey_score, 0)
             + COALESCE({weights["manual"]} * c.manual_score, 0))
            / NULLIF(
                CASE WHEN c.grid_score IS NULL THEN 0 ELSE {weights["grid"]} END
                + CASE WHEN c.survey_score IS NULL THEN 0 ELSE {weights["survey"]} END
                + CASE WHEN c.manual_score IS NULL THEN 0 ELSE {weights["manual"]} END,
                0), 2) AS total
        FROM components c
    )
    INSERT INTO governance_workerappraisal (worker_id, month, grid_id, street_id,
        grids, grid_score, survey_score, survey_answers, manual_score, total, stars,
        computed_at)
    SELECT t.worker_id, %(month)s, t.first_grid,
        -- The street its rating names, else looked up in the tree (a grid
        -- not rated this month).
        COALESCE(t.rated_street, (SELECT s.id FROM grids_region g JOIN grids_region s
            ON s.tree_id = g.tree_id AND s.lft <= g.lft AND s.rght >= g.rght
            WHERE g.id = t.first_grid AND s.level = 'street' LIMIT 1)),
        {_grids_json_sql("t.grids")}, t.grid_score, t.survey_score,
        t.answers, t.manual_score, t.total,
        CASE WHEN t.total IS NULL THEN NULL {stars} ELSE 1 END, %(now)s
    FROM totals t
    """


def workers_appraise(*, month: dt.date, worker_ids=None) -> int:
    """Compute the five-star appraisal of ``month`` for every worker with a
    stint or a manual score in it (or for ``worker_ids``): replaces those rows,
    in one transaction under the month's advisory lock. Returns the rows
    written. Run after ``rate_grids`` (the task does), and by
    ``appraisal_input_record`` for its worker."""
    month = _month(month)
    params = {
        "month": month,
        "following": _following(month),
        "now": db_datetime(timezone.now()),
    }
    worker_filter = ""
    if worker_ids is not None:
        params["workers"] = list_param(int(pk) for pk in worker_ids)
        worker_filter = "AND " + in_list("a.worker_id", "workers")
    table = WorkerAppraisal._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        xact_lock(cursor, ADVISORY_LOCK_CLASS, month.year * 100 + month.month)
        delete = f"DELETE FROM {table} WHERE month = %(month)s"
        if worker_ids is not None:
            delete += " AND " + in_list("worker_id", "workers")
        cursor.execute(delete, params)
        cursor.execute(_appraise_sql(worker_filter), params)
        return rows_written(cursor)


def appraisal_input_record(
    *, actor, worker_id: int, month: dt.date, score, reason: str
) -> WorkerAppraisalInput:
    """Enter the manual component of a worker's month (street or community
    staff, for a worker who served a grid of their area in that month), with a
    reason; recomputes that worker's appraisal in the same transaction. The
    entry is its own record of who, when and why (append-only): no audit-log
    entry, which would carry no area and show the staff's name to every
    area's staff."""
    grid_permissions.require(can_appraise(actor))
    month = _month(month)
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the score."), code="required")
    if len(reason) > REASON_MAX_LENGTH:
        raise DomainError(
            _("The reason is too long (at most %(max)d characters).")
            % {"max": REASON_MAX_LENGTH},
            code="too_long",
        )
    try:
        score = Decimal(str(score)).quantize(Decimal("0.01"))
    except ArithmeticError:
        score = None
    if score is None or not Decimal(0) <= score <= Decimal(100):
        raise DomainError(_("The score runs from 0 to 100."), code="invalid")
    region = actor.scope_region if not actor.is_superuser else None
    stints = GridAssignment.objects.filter(
        worker_id=worker_id,
        started_on__lt=_following(month),
    ).exclude(ended_on__lt=month)
    if region is not None:
        stints = stints.filter(
            grid__tree_id=region.tree_id,
            grid__lft__gte=region.lft,
            grid__rght__lte=region.rght,
        )
    if not stints.exists():
        raise OutOfScope(
            _("This grid worker did not serve a grid of your area in that month.")
        )
    with transaction.atomic():
        GridWorker.objects.select_for_update().filter(pk=worker_id).first()
        entry = WorkerAppraisalInput.objects.create(
            worker_id=worker_id,
            month=month,
            score=score,
            reason=reason,
            entered_by=actor,
            entered_at=timezone.now(),
        )
        workers_appraise(month=month, worker_ids=[worker_id])
    return entry
