"""The monthly A/B/C rating job (governance.services.rate_grids) on hand-built
data with known answers: scores, smoothing, quotas with ties, thresholds, the
rule-set versions, re-run idempotency and the frozen published month."""

import datetime as dt
from decimal import Decimal

import pytest

from governance.models import (
    ClassMethod,
    GridRating,
    RatingClass,
    RatingRuleSet,
    RatingState,
)
from governance.services import classes_by_quota, rate_grids, ratings_publish
from governance.tasks import rate_grids_task
from grids.choices import PatrolKind
from grids.errors import Conflict, NotAllowed
from grids.models import Patrol
from tests.grids.factories import make_tree
from tests.tickets.factories import TicketFactory, aware
from tickets.choices import Stage, Verdict

NOV = dt.date(2026, 11, 1)


def rules(**values):
    """The shared rules' next version (written directly: these tests are about
    the job; the service that keeps rule sets has its own tests)."""
    version = RatingRuleSet.objects.filter(region=None).count() + 1
    return RatingRuleSet.objects.create(region=None, version=version, **values)


def patrols(worker, grid, days: int):
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


def closed(grid, verdict, n=1):
    for _ in range(n):
        TicketFactory(
            region=grid,
            stage=Stage.CLOSED,
            closed_at=aware(2026, 11, 20, 9, 0),
            verdict=verdict,
        )


def by_grid(month=NOV):
    return {r.grid_id: r for r in GridRating.objects.filter(month=month)}


# --- quotas ------------------------------------------------------------------------


def test_quotas_without_ties():
    scores = [Decimal(s) for s in (90, 80, 70, 60, 50, 40, 30, 20, 10, 0)]
    assert classes_by_quota(scores, 20, 10) == ["A", "A"] + ["B"] * 7 + ["C"]


def test_a_tie_across_the_quota_edge_falls_to_b():
    scores = [Decimal(s) for s in (90, 80, 80, 70, 60, 50, 40, 30, 20, 20)]
    # Quota A = 2: 90 fits; the two 80s would make 3 → both B. Quota C = 1: the
    # two 20s would make 2 → both B (nobody is put in C by a tie).
    assert classes_by_quota(scores, 20, 10) == ["A"] + ["B"] * 9


def test_a_tie_inside_the_quota_shares_the_class():
    scores = [Decimal(s) for s in (90, 90, 70, 60, 50)]
    assert classes_by_quota(scores, 40, 20) == ["A", "A", "B", "B", "C"]


def test_all_tied_is_all_b():
    assert classes_by_quota([Decimal(0)] * 4, 20, 10) == ["B"] * 4


# --- the job -----------------------------------------------------------------------


def test_an_empty_month_rates_every_grid_b_with_the_shared_rules(tree):
    assert rate_grids(month=NOV) == 4
    ratings = by_grid()
    assert set(ratings) == {g.pk for g in tree["grids"]}
    rule_set = RatingRuleSet.objects.get(region=None)
    for rating in ratings.values():
        # Only the patrol day rate has a denominator (the days): 0 patrols.
        assert rating.score == Decimal("0.00")
        assert rating.rating_class == rating.computed_class == RatingClass.B
        assert rating.rank_in_street == 1
        assert rating.rule_set == rule_set and rating.rule_set_version == 1
        assert rating.state == RatingState.DRAFT
        assert rating.street_id == tree["street"].pk
        assert rating.indicators["satisfaction_rate"] is None


def test_a_grid_without_tickets_takes_the_street_mean_marked_smoothed(tree):
    rules(weights={"satisfaction_rate": 1}, min_tickets=5, smoothing_strength=5)
    big, small, empty = tree["grids"][:3]
    closed(big, Verdict.SATISFIED, n=10)
    closed(small, Verdict.DISSATISFIED)
    rate_grids(month=NOV)
    ratings = by_grid()
    assert ratings[big.pk].score == Decimal("100.00")
    assert ratings[big.pk].smoothed == []
    # Street mean m = 10/11; small: (0 + 5·m) / (1 + 5) = 50/66.
    assert ratings[small.pk].indicators["satisfaction_rate"] == pytest.approx(50 / 66)
    assert ratings[small.pk].indicators["raw"]["satisfaction_rate"] == 0
    assert ratings[small.pk].score == Decimal("75.76")
    assert "satisfaction_rate" in ratings[small.pk].smoothed
    assert ratings[small.pk].is_smoothed
    # No ticket: the street's mean itself.
    assert ratings[empty.pk].indicators["satisfaction_rate"] == pytest.approx(10 / 11)
    assert ratings[empty.pk].score == Decimal("90.91")


def test_quotas_with_ties_through_the_job(db, grid_worker):
    tree = make_tree(communities=2, grids_per_community=5)
    rules(weights={"patrol_day_rate": 1}, a_share=20, c_share=10)
    days = [12, 11, 11, 9, 8, 7, 6, 5, 1, 1]
    for grid, count in zip(tree["grids"], days, strict=True):
        patrols(grid_worker, grid, count)
    rate_grids(month=NOV)
    ratings = by_grid()
    classes = [ratings[g.pk].rating_class for g in tree["grids"]]
    ranks = [ratings[g.pk].rank_in_street for g in tree["grids"]]
    assert classes == ["A"] + ["B"] * 9
    assert ranks == [1, 2, 2, 4, 5, 6, 7, 8, 9, 9]
    assert ratings[tree["grids"][0].pk].score == Decimal("40.00")  # 12 of 30 days
    assert {ratings[g.pk].grids_in_street for g in tree["grids"]} == {10}


def test_classes_by_thresholds(db, grid_worker):
    tree = make_tree(communities=1, grids_per_community=3)
    rules(
        weights={"patrol_day_rate": 1},
        method=ClassMethod.THRESHOLDS,
        a_threshold=Decimal(90),
        c_threshold=Decimal(50),
    )
    for grid, count in zip(tree["grids"], [30, 20, 10], strict=True):
        patrols(grid_worker, grid, count)
    rate_grids(month=NOV)
    ratings = by_grid()
    assert [ratings[g.pk].rating_class for g in tree["grids"]] == ["A", "B", "C"]


def test_the_street_rules_win_over_the_shared_ones(tree):
    rules(weights={"patrol_day_rate": 1})
    RatingRuleSet.objects.create(
        region=tree["street"], version=1, weights={"satisfaction_rate": 1}
    )
    closed(tree["grids"][0], Verdict.SATISFIED, n=5)
    rate_grids(month=NOV)
    rating = by_grid()[tree["grids"][0].pk]
    assert rating.rule_set.region == tree["street"]
    assert rating.score == Decimal("100.00")


def _snapshot():
    return sorted(
        GridRating.objects.filter(month=NOV).values_list(
            "grid_id",
            "score",
            "rating_class",
            "rank_in_street",
            "indicators",
            "smoothed",
            "rule_set_version",
            "state",
        )
    )


def test_rerun_replaces_the_drafts_and_nothing_else(tree, grid_worker):
    rules(weights={"patrol_day_rate": 1, "satisfaction_rate": 1})
    patrols(grid_worker, tree["grids"][0], 10)
    closed(tree["grids"][1], Verdict.SATISFIED, n=3)
    rate_grids(month=NOV)
    first = _snapshot()
    october = GridRating.objects.count()
    assert rate_grids(month=NOV) == 4
    assert _snapshot() == first
    assert GridRating.objects.count() == october
    # Another month is left alone by a rerun of November.
    rate_grids(month=dt.date(2026, 10, 1))
    rate_grids(month=NOV)
    assert GridRating.objects.filter(month=dt.date(2026, 10, 1)).count() == 4
    # A new rule-set version: the rerun's drafts record it.
    rules(weights={"patrol_day_rate": 1})
    rate_grids(month=NOV)
    assert {r.rule_set_version for r in by_grid().values()} == {2}


def test_a_published_month_is_frozen(tree, street_staff, grid_worker):
    rate_grids(month=NOV)
    assert ratings_publish(actor=street_staff, street=tree["street"], month=NOV) == 4
    published = _snapshot()
    patrols(grid_worker, tree["grids"][0], 10)
    with pytest.raises(Conflict) as refused:
        rate_grids(month=NOV)
    assert refused.value.code == "published"
    assert _snapshot() == published
    assert {r.state for r in by_grid().values()} == {RatingState.PUBLISHED}


def test_publishing_one_street_freezes_it_and_not_the_other(tree, other_tree):
    rate_grids(month=NOV)
    from grids.choices import UserRole
    from tests.grids.factories import UserFactory

    staff = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    ratings_publish(actor=staff, street=tree["street"], month=NOV)
    frozen = {r.pk for r in GridRating.objects.filter(street=tree["street"], month=NOV)}
    assert rate_grids(month=NOV) == len(other_tree["grids"])
    assert frozen <= set(GridRating.objects.values_list("pk", flat=True))
    others = GridRating.objects.filter(street=other_tree["street"], month=NOV)
    assert {r.state for r in others} == {RatingState.DRAFT}


def test_publish_is_refused_twice_outside_scope_and_to_other_roles(
    tree, other_tree, street_staff, community_staff
):
    rate_grids(month=NOV)
    with pytest.raises(NotAllowed):
        ratings_publish(actor=community_staff, street=tree["street"], month=NOV)
    from grids.errors import OutOfScope

    with pytest.raises(OutOfScope):
        ratings_publish(actor=street_staff, street=other_tree["street"], month=NOV)
    ratings_publish(actor=street_staff, street=tree["street"], month=NOV)
    with pytest.raises(Conflict):
        ratings_publish(actor=street_staff, street=tree["street"], month=NOV)


def test_the_task_rates_the_month_that_ended_and_runs_twice(tree):
    import time_machine

    with time_machine.travel(aware(2026, 12, 1, 2, 0), tick=False):
        assert rate_grids_task() == 4
        assert rate_grids_task() == 4
    assert GridRating.objects.filter(month=NOV).count() == 4
    assert rate_grids_task("2026-10-01") == 4


@pytest.mark.parametrize("grids_per_community", [5, 50])
def test_the_job_query_count_does_not_grow_with_the_grids(
    db, django_assert_max_num_queries, grids_per_community
):
    tree = make_tree(communities=1, grids_per_community=grids_per_community)
    rules(weights={"satisfaction_rate": 1})
    for grid in tree["grids"]:
        closed(grid, Verdict.SATISFIED)
    # Savepoint, lock, jit off, publications, grids, active grids' count, rule
    # sets, delete, indicators' load table (drop, create), the ratings' INSERT …
    # SELECT, the grids' summaries, release: 13 whatever the number of grids.
    with django_assert_max_num_queries(13):
        assert rate_grids(month=NOV) == grids_per_community
