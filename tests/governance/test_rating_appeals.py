"""Rule-set versions, the appeal path (申诉) and the reads of the ratings:
allowed and denied, with the scope of each."""

import datetime as dt
from decimal import Decimal

import pytest

from governance.models import (
    GridRating,
    RatingAppealDecision,
    RatingClass,
    RatingClassChange,
    RatingRuleSet,
)
from governance.selectors import best_and_worst, rating_movers, ratings_visible
from governance.services import (
    rate_grids,
    rating_appeal_decide,
    rating_appeal_file,
    ratings_publish,
    ruleset_save_version,
)
from grids.append_only import AppendOnlyError
from grids.choices import AuditAction, UserRole
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from grids.models import AuditEntry
from tests.grids.factories import UserFactory

NOV = dt.date(2026, 11, 1)
OCT = dt.date(2026, 10, 1)


@pytest.fixture
def published(tree, street_staff):
    rate_grids(month=NOV)
    ratings_publish(actor=street_staff, street=tree["street"], month=NOV)
    return GridRating.objects.get(grid=tree["grids"][0], month=NOV)


# --- rule sets ------------------------------------------------------------------


def test_street_staff_save_versions_of_their_rules_audited(tree, street_staff):
    first = ruleset_save_version(
        actor=street_staff, region=tree["street"], weights={"response_rate": 1}
    )
    second = ruleset_save_version(
        actor=street_staff, region=tree["street"], weights={"on_time_rate": 2}
    )
    assert (first.version, second.version) == (1, 2)
    assert RatingRuleSet.objects.get(pk=first.pk).weights == {"response_rate": 1}
    assert AuditEntry.objects.filter(
        object_id=str(second.pk), action=AuditAction.CREATE
    ).exists()


def test_rule_sets_refused_to_others_outside_scope_and_when_invalid(
    tree, other_tree, street_staff, community_staff
):
    with pytest.raises(NotAllowed):
        ruleset_save_version(actor=community_staff, region=tree["street"])
    with pytest.raises(OutOfScope):
        ruleset_save_version(actor=street_staff, region=other_tree["street"])
    with pytest.raises(NotAllowed):
        ruleset_save_version(actor=street_staff, region=None)
    with pytest.raises(DomainError):
        ruleset_save_version(actor=street_staff, region=tree["communities"][0])
    with pytest.raises(DomainError):
        ruleset_save_version(
            actor=street_staff, region=tree["street"], weights={"nonsense": 1}
        )
    with pytest.raises(DomainError):
        ruleset_save_version(
            actor=street_staff, region=tree["street"], a_share=60, c_share=50
        )
    with pytest.raises(DomainError):
        ruleset_save_version(
            actor=street_staff,
            region=tree["street"],
            a_threshold=Decimal(50),
            c_threshold=Decimal(60),
        )
    assert not RatingRuleSet.objects.exists()


# --- appeals ---------------------------------------------------------------------


def test_appeal_upheld_changes_the_class_as_history(
    published, community_staff, street_staff
):
    assert published.rating_class == RatingClass.B
    appeal = rating_appeal_file(
        actor=community_staff, rating_id=published.pk, reason="巡查记录漏录"
    )
    decision = rating_appeal_decide(
        actor=street_staff,
        appeal_id=appeal.pk,
        upheld=True,
        new_class=RatingClass.A,
        note="补录后核实",
    )
    published.refresh_from_db()
    assert published.rating_class == RatingClass.A
    assert published.computed_class == RatingClass.B
    change = RatingClassChange.objects.get(rating=published)
    assert (change.from_class, change.to_class, change.decision) == (
        "B",
        "A",
        decision,
    )
    with pytest.raises(AppendOnlyError):
        change.delete()


def test_appeal_rejected_leaves_the_class(published, community_staff, street_staff):
    appeal = rating_appeal_file(
        actor=community_staff, rating_id=published.pk, reason="不服"
    )
    rating_appeal_decide(
        actor=street_staff, appeal_id=appeal.pk, upheld=False, note="依据充分"
    )
    published.refresh_from_db()
    assert published.rating_class == RatingClass.B
    assert not RatingClassChange.objects.exists()
    # Decided: a new appeal may be filed; the decided one cannot be decided again.
    with pytest.raises(Conflict):
        rating_appeal_decide(
            actor=street_staff, appeal_id=appeal.pk, upheld=False, note="再议"
        )
    rating_appeal_file(actor=community_staff, rating_id=published.pk, reason="补充")


def test_appeal_denied_paths(tree, published, community_staff, street_staff):
    other_staff = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1]
    )
    with pytest.raises(OutOfScope):
        rating_appeal_file(actor=other_staff, rating_id=published.pk, reason="x")
    with pytest.raises(NotAllowed):
        rating_appeal_file(actor=street_staff, rating_id=published.pk, reason="x")
    with pytest.raises(DomainError):
        rating_appeal_file(actor=community_staff, rating_id=published.pk, reason=" ")
    appeal = rating_appeal_file(
        actor=community_staff, rating_id=published.pk, reason="理由"
    )
    with pytest.raises(Conflict):
        rating_appeal_file(actor=community_staff, rating_id=published.pk, reason="再")
    with pytest.raises(NotAllowed):
        rating_appeal_decide(
            actor=community_staff, appeal_id=appeal.pk, upheld=False, note="n"
        )
    with pytest.raises(DomainError):
        rating_appeal_decide(
            actor=street_staff, appeal_id=appeal.pk, upheld=True, note="n"
        )
    with pytest.raises(DomainError):
        rating_appeal_decide(
            actor=street_staff,
            appeal_id=appeal.pk,
            upheld=True,
            new_class=RatingClass.B,
            note="n",
        )
    assert not RatingAppealDecision.objects.exists()


def test_a_draft_cannot_be_appealed(tree, community_staff):
    rate_grids(month=NOV)
    draft = GridRating.objects.get(grid=tree["grids"][0], month=NOV)
    with pytest.raises(Conflict):
        rating_appeal_file(actor=community_staff, rating_id=draft.pk, reason="x")


# --- reads -----------------------------------------------------------------------


def test_community_staff_see_only_their_grids_ratings(tree, other_tree):
    rate_grids(month=NOV)
    staff = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0])
    seen = set(ratings_visible(actor=staff, month=NOV).values_list("grid", flat=True))
    assert seen == {g.pk for g in tree["grids"][:2]}
    with pytest.raises(OutOfScope):
        ratings_visible(actor=staff, month=NOV, region=tree["communities"][1])
    supervisor = UserFactory(role=UserRole.SUPERVISOR, region=tree["district"])
    assert ratings_visible(actor=supervisor, month=NOV).count() == 4


def _set_class(grid, month, rating_class, score):
    GridRating.objects.filter(grid=grid, month=month).update(
        rating_class=rating_class, score=score
    )


def test_movers_against_last_month(tree, street_staff):
    rate_grids(month=OCT)
    rate_grids(month=NOV)
    g = tree["grids"]
    for grid, before, after in (
        (g[0], "B", "A"),
        (g[1], "A", "C"),
        (g[2], "C", "B"),
        (g[3], "B", "B"),
    ):
        _set_class(grid, OCT, before, 50)
        _set_class(grid, NOV, after, 50)
    movers = {
        r.grid_id: (r.previous_class, r.moved)
        for r in rating_movers(actor=street_staff, month=NOV)
    }
    assert movers == {g[0].pk: ("B", 1), g[2].pk: ("C", 1), g[1].pk: ("A", -1)}


def test_best_and_worst_of_a_street(tree, other_tree, street_staff):
    rate_grids(month=NOV)
    for grid, score in zip(tree["grids"], [90, 70, 70, 10], strict=True):
        _set_class(grid, NOV, "B", score)
    g = tree["grids"]
    lists = best_and_worst(
        actor=street_staff, region=tree["street"], month=NOV, count=2
    )
    assert [r.grid_id for r in lists["best"]] == [g[0].pk, g[1].pk]
    assert [r.grid_id for r in lists["worst"]] == [g[3].pk, g[1].pk]
    with pytest.raises(OutOfScope):
        best_and_worst(actor=street_staff, region=other_tree["street"], month=NOV)
