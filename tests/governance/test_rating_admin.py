"""The rating's admin pages call the services: a rule set is added as a new
version, the ratings' actions re-run and publish a month, appeals and decisions
are filed through their forms; each refused to the roles that may not."""

import datetime as dt
import json

from django.urls import reverse

from governance.models import (
    GridRating,
    RatingAppeal,
    RatingAppealDecision,
    RatingRuleSet,
    RatingState,
)
from governance.services import rate_grids, ratings_publish

NOV = dt.date(2026, 11, 1)


def _rule_form(region, **changes):
    data = {
        "region": region.pk,
        "weights": json.dumps({"satisfaction_rate": 3, "patrol_day_rate": 1}),
        "method": "quotas",
        "a_share": 20,
        "c_share": 10,
        "a_threshold": "90",
        "c_threshold": "60",
        "min_tickets": 5,
        "smoothing_strength": "5",
        "ordinary_weight": "0.8",
        "survey_weight": 0,
        "survey_period": "month",
        "note": "2026年细则",
    }
    data.update(changes)
    return data


def test_street_staff_add_a_rule_set_version(client, tree, street_staff):
    client.force_login(street_staff)
    url = reverse("admin:governance_ratingruleset_add")
    assert client.get(url).status_code == 200
    response = client.post(url, _rule_form(tree["street"]))
    assert response.status_code == 302
    client.post(url, _rule_form(tree["street"], note="修订"))
    versions = list(
        RatingRuleSet.objects.filter(region=tree["street"]).values_list(
            "version", "note"
        )
    )
    assert sorted(versions) == [(1, "2026年细则"), (2, "修订")]


def test_an_invalid_rule_set_is_a_form_error_not_a_500(client, tree, street_staff):
    client.force_login(street_staff)
    url = reverse("admin:governance_ratingruleset_add")
    response = client.post(
        url, _rule_form(tree["street"], weights=json.dumps({"nonsense": 1}))
    )
    assert response.status_code in (200, 302)
    assert not RatingRuleSet.objects.exists()


def test_community_staff_cannot_add_rules(client, tree, community_staff):
    client.force_login(community_staff)
    url = reverse("admin:governance_ratingruleset_add")
    assert client.get(url).status_code == 403


def _action(client, action, ratings):
    return client.post(
        reverse("admin:governance_gridrating_changelist"),
        {"action": action, "_selected_action": [r.pk for r in ratings]},
    )


def test_rerun_and_publish_actions(client, tree, street_staff):
    rate_grids(month=NOV)
    client.force_login(street_staff)
    ratings = list(GridRating.objects.all())
    assert _action(client, "rerun_months", ratings).status_code == 302
    assert GridRating.objects.filter(month=NOV).count() == 4
    ratings = list(GridRating.objects.all())
    assert _action(client, "publish_months", ratings).status_code == 302
    assert {r.state for r in GridRating.objects.all()} == {RatingState.PUBLISHED}


def test_community_staff_have_no_rating_actions(client, tree, community_staff):
    rate_grids(month=NOV)
    client.force_login(community_staff)
    ratings = list(GridRating.objects.filter(grid__in=tree["grids"][:2]))
    response = client.get(reverse("admin:governance_gridrating_changelist"))
    assert response.status_code == 200
    assert "publish_months" not in response.content.decode()
    _action(client, "publish_months", ratings)
    assert {r.state for r in GridRating.objects.all()} == {RatingState.DRAFT}


def test_appeal_and_decision_through_the_admin(
    client, tree, street_staff, community_staff
):
    rate_grids(month=NOV)
    ratings_publish(actor=street_staff, street=tree["street"], month=NOV)
    rating = GridRating.objects.get(grid=tree["grids"][0], month=NOV)
    client.force_login(community_staff)
    response = client.post(
        reverse("admin:governance_ratingappeal_add"),
        {"rating": rating.pk, "reason": "巡查记录漏录"},
    )
    assert response.status_code == 302
    appeal = RatingAppeal.objects.get(rating=rating)
    assert appeal.filed_by == community_staff
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:governance_ratingappealdecision_add"),
        {"appeal": appeal.pk, "upheld": "on", "new_class": "A", "note": "核实"},
    )
    assert response.status_code == 302
    assert RatingAppealDecision.objects.get(appeal=appeal).new_class == "A"
    rating.refresh_from_db()
    assert rating.rating_class == "A"
