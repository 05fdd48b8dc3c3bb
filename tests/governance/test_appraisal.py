"""五星级网格员: the five-star appraisal (governance.appraisal) on hand-built data
with known answers: the three components, the weights, the stars, the manual
score's history, rights and scope, the rerun, and the stars on the roster and
in the list per street."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from governance.appraisal import (
    appraisal_input_record,
    stars_for,
    workers_appraise,
)
from governance.models import (
    RatingRuleSet,
    SurveyAnswer,
    WorkerAppraisal,
    WorkerAppraisalInput,
)
from governance.services import rate_grids
from governance.tasks import rate_grids_task
from grids.choices import PatrolKind, RegionLevel, UserRole, WorkerRole
from grids.errors import DomainError, NotAllowed, OutOfScope
from grids.models import Patrol
from tests.grids.factories import (
    GridAssignmentFactory,
    GridWorkerFactory,
    RegionFactory,
    UserFactory,
)
from tests.tickets.factories import aware

NOV = dt.date(2026, 11, 1)


def rules(**values):
    version = RatingRuleSet.objects.filter(region=None).count() + 1
    return RatingRuleSet.objects.create(region=None, version=version, **values)


def patrols(grid, days: int):
    worker = UserFactory(role=UserRole.GRID_WORKER, region=grid, is_staff=False)
    Patrol.objects.bulk_create(
        Patrol(
            worker=worker,
            region=grid,
            kind=PatrolKind.PATROL,
            occurred_at=aware(2026, 11, day, 10, 0),
            notes="巡查",
        )
        for day in range(1, days + 1)
    )


def answer(grid, marks, respondent):
    a, c, e = marks
    SurveyAnswer.objects.create(
        grid=grid,
        period_kind="month",
        period_start=NOV,
        respondent=respondent,
        attitude=a,
        conduct=c,
        effect=e,
        answered_at=aware(2026, 11, 10, 9, 0),
    )


def stint(worker, grid, start=dt.date(2026, 1, 1), end=None, role=WorkerRole.FULL_TIME):
    return GridAssignmentFactory(
        worker=worker, grid=grid, started_on=start, ended_on=end, role=role
    )


@pytest.fixture
def world(tree):
    """Worker 1 serves grids 1 and 2 (grid 2 through a micro-grid), worker 2
    serves grid 3, worker 3's stint ended in October. Grid 1 patrolled 15 of
    30 days (indicator 50), grid 2 all 30 (100), grid 3 none (0)."""
    rules(weights={"patrol_day_rate": 1}, survey_weight=0)
    g1, g2, g3, g4 = tree["grids"]
    building = RegionFactory(level=RegionLevel.BUILDING, parent=g2, name="1号楼")
    w1, w2, w3 = GridWorkerFactory(), GridWorkerFactory(), GridWorkerFactory()
    stint(w1, g1)
    stint(w1, building, role=WorkerRole.MICRO)
    stint(w2, g3, start=dt.date(2026, 11, 20))
    stint(w3, g4, end=dt.date(2026, 10, 31))
    patrols(g1, 15)
    patrols(g2, 30)
    answer(g1, (4, 4, 4), "h1")
    answer(g2, (2, 2, 2), "h2")
    return {"grids": (g1, g2, g3, g4), "workers": (w1, w2, w3)}


def test_stars_thresholds():
    assert stars_for(Decimal("90")) == 5
    assert stars_for(Decimal("89.99")) == 4
    assert stars_for(Decimal("70")) == 3
    assert stars_for(Decimal("60")) == 2
    assert stars_for(Decimal("59.99")) == 1
    assert stars_for(None) is None


def test_the_three_components_and_the_stars(world, street_staff):
    w1, w2, w3 = world["workers"]
    g1, g2, _g3, _g4 = world["grids"]
    rate_grids(month=NOV)
    appraisal_input_record(
        actor=street_staff, worker_id=w1.pk, month=NOV, score=90, reason="先进事迹"
    )
    appraisal_input_record(
        actor=street_staff,
        worker_id=w1.pk,
        month=dt.date(2026, 11, 15),
        score="60",
        reason="复核后调整",
    )
    assert workers_appraise(month=NOV) == 2
    rows = {a.worker_id: a for a in WorkerAppraisal.objects.filter(month=NOV)}
    one = rows[w1.pk]
    # G = (50 + 100) / 2 = 75; S: 18 points over 6 items → 100·(3 − 1)/4 = 50;
    # M = 60 (the newest entry); T = (50·75 + 30·50 + 20·60) / 100 = 64.5.
    assert one.grids == sorted([g1.pk, g2.pk])
    assert one.grid_score == Decimal("75.00")
    assert one.survey_score == Decimal("50.00") and one.survey_answers == 2
    assert one.manual_score == Decimal("60.00")
    assert one.total == Decimal("64.50") and one.stars == 2
    assert one.street_id == g1.parent.parent_id and one.grid_id == g1.pk
    two = rows[w2.pk]
    # Grid 3 only (joined on the 20th): no patrol → 0, no survey, no manual.
    assert two.grid_score == Decimal("0.00") and two.survey_score is None
    assert two.total == Decimal("0.00") and two.stars == 1
    assert w3.pk not in rows  # the stint ended before November
    # Both manual entries are kept as history.
    assert WorkerAppraisalInput.objects.filter(worker=w1).count() == 2


def test_a_manual_score_alone_gives_stars_and_a_rerun_changes_nothing(
    world, street_staff
):
    w1 = world["workers"][0]
    # No rating this month: the manual component alone.
    appraisal_input_record(
        actor=street_staff, worker_id=w1.pk, month=NOV, score=95, reason="表彰"
    )
    row = WorkerAppraisal.objects.get(worker=w1, month=NOV)
    assert row.grid_score is None and row.total == Decimal("95.00")
    assert row.stars == 5
    before = list(WorkerAppraisal.objects.values_list("worker_id", "total", "stars"))
    workers_appraise(month=NOV)
    workers_appraise(month=NOV)
    after = list(WorkerAppraisal.objects.values_list("worker_id", "total", "stars"))
    assert sorted([*before, (world["workers"][1].pk, None, None)]) == sorted(after)


def test_the_task_rates_then_appraises(world):
    assert rate_grids_task("2026-11-01") == 4
    assert WorkerAppraisal.objects.filter(month=NOV).count() == 2


def test_manual_scores_need_the_right_role_scope_reason_and_range(
    world, tree, other_tree, supervisor
):
    w1, _w2, w3 = world["workers"]
    with pytest.raises(NotAllowed):
        appraisal_input_record(
            actor=supervisor, worker_id=w1.pk, month=NOV, score=80, reason="x"
        )
    far = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    with pytest.raises(OutOfScope):
        appraisal_input_record(
            actor=far, worker_id=w1.pk, month=NOV, score=80, reason="x"
        )
    other_community = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1]
    )
    with pytest.raises(OutOfScope):  # w1 serves community 1's grids
        appraisal_input_record(
            actor=other_community, worker_id=w1.pk, month=NOV, score=80, reason="x"
        )
    staff = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0])
    with pytest.raises(OutOfScope):  # w3 did not serve in November
        appraisal_input_record(
            actor=staff, worker_id=w3.pk, month=NOV, score=80, reason="x"
        )
    for score, reason in ((101, "x"), (-1, "x"), ("abc", "x"), (80, "  ")):
        with pytest.raises(DomainError):
            appraisal_input_record(
                actor=staff, worker_id=w1.pk, month=NOV, score=score, reason=reason
            )
    assert not WorkerAppraisalInput.objects.exists()
    appraisal_input_record(
        actor=staff, worker_id=w1.pk, month=NOV, score=80, reason="群众表扬"
    )
    assert WorkerAppraisalInput.objects.get().entered_by == staff


def test_the_roster_and_the_street_list_show_the_stars(
    client, world, street_staff, other_tree
):
    w1 = world["workers"][0]
    appraisal_input_record(
        actor=street_staff, worker_id=w1.pk, month=NOV, score=95, reason="表彰"
    )
    client.force_login(street_staff)
    roster = client.get(reverse("admin:grids_gridworker_changelist"))
    assert roster.status_code == 200
    assert "★★★★★" in roster.content.decode()
    street = world["grids"][0].parent.parent
    listing = client.get(
        reverse("admin:governance_workerappraisal_changelist"),
        {"street": street.pk},
    )
    assert listing.status_code == 200 and w1.name in listing.content.decode()
    far = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    client.force_login(far)
    hidden = client.get(reverse("admin:governance_workerappraisal_changelist"))
    assert w1.name not in hidden.content.decode()
    inputs = client.get(reverse("admin:governance_workerappraisalinput_changelist"))
    assert "表彰" not in inputs.content.decode()
