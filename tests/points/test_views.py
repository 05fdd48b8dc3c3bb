import datetime as dt

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from grids.choices import UserRole
from points.links import rankings_url, statement_token, statement_url
from points.models import Award
from tests.grids.factories import UserFactory
from tests.points.factories import PrizeFactory, RuleItemFactory, resident_in

# --- the signed statement link --------------------------------------------------


def test_statement_shows_balance_history_and_affordable_prizes(
    client, tree, resident, credit, django_assert_max_num_queries
):
    credit(resident, 60)
    PrizeFactory(region=tree["communities"][0], name="大米", price=50, stock=3)
    PrizeFactory(region=tree["street"], name="食用油", price=80, stock=3)
    PrizeFactory(region=tree["communities"][1], name="别处的奖品", price=10)

    with django_assert_max_num_queries(7):
        response = client.get(statement_url(resident))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response.context["balance"] == 60
    assert [p.name for p in response.context["affordable"]] == ["大米"]
    assert [p.name for p in response.context["other_prizes"]] == ["食用油"]
    assert len(response.context["entries"]) == 1
    assert "别处的奖品" not in response.content.decode()


def test_statement_masks_the_residents_name(client, resident):
    # The link is a reusable public link (90 days): whoever holds it sees the page.
    page = client.get(statement_url(resident)).content.decode()
    assert resident.name == "张三丰"
    assert "张三丰" not in page
    assert "张*丰" in page


def test_statement_without_points_is_empty(client, resident):
    response = client.get(statement_url(resident))
    assert response.status_code == 200
    assert response.context["balance"] == 0


def test_tampered_or_foreign_token_is_refused(client, resident):
    token = statement_token(resident)
    assert client.get(f"/points/statement/{token}x/").status_code == 404
    foreign = signing.dumps({"resident": resident.pk}, salt="something-else")
    assert client.get(f"/points/statement/{foreign}/").status_code == 404


def test_expired_link_is_refused(client, resident, settings):
    url = statement_url(resident)
    settings.POINTS_STATEMENT_LINK_MAX_AGE = dt.timedelta(seconds=-1)
    assert client.get(url).status_code == 404


def test_statement_of_a_pooled_household_shows_the_household_balance(
    client, tree, community_staff, resident, grid_worker
):
    from points import services

    services.policy_set(
        actor=community_staff,
        community=tree["communities"][0],
        pool_by_household=True,
        expire_at_year_end=False,
    )
    partner = resident_in(tree["grids"][0])
    partner.household = resident.household
    partner.save()
    award, _ = services.award_propose(
        actor=grid_worker,
        resident_id=partner.pk,
        rule_item_id=RuleItemFactory(points=12).pk,
        awarded_on=timezone.localdate(),
        idempotency_key="pool",
    )
    services.award_approve(actor=community_staff, award_id=award.pk)
    assert client.get(statement_url(resident)).context["balance"] == 12


# --- rankings ----------------------------------------------------------------------


def test_rankings_mask_names_and_rank_ties(client, tree, credit):
    top = resident_in(tree["grids"][0], name="张三丰")
    tied = resident_in(tree["grids"][1], name="李小龙")
    third = resident_in(tree["grids"][1], name="王五")
    elsewhere = resident_in(tree["grids"][2], name="赵六")
    credit(top, 50)
    credit(tied, 50)
    credit(third, 10)
    credit(elsewhere, 99)

    today = timezone.localdate()
    url = rankings_url(tree["communities"][0])
    response = client.get(url, {"year": today.year, "month": today.month})

    ranking = response.context["ranking"]
    assert [(r["rank"], r["name"], r["points"]) for r in ranking] == [
        (1, "张*丰", 50),
        (1, "李*龙", 50),
        (3, "王*", 10),
    ]
    body = response.content.decode()
    assert "张三丰" not in body and "赵" not in body
    last_year = client.get(url, {"year": today.year - 1}).context["ranking"]
    assert last_year == []


def test_rankings_of_a_grid_or_unknown_region_are_404(client, tree, street_staff):
    # signed links, or signed in: a grid or an unknown id is no community
    assert client.get(rankings_url(tree["grids"][0])).status_code == 404
    assert client.get(rankings_url(999999)).status_code == 404
    client.force_login(street_staff)
    for region_id in (tree["grids"][0].pk, 999999):
        url = reverse("points:rankings", args=[region_id])
        assert client.get(url).status_code == 404


def test_rankings_ignore_bad_parameters(client, tree):
    url = rankings_url(tree["communities"][0])
    response = client.get(url, {"year": "abc", "month": "13"})
    assert response.status_code == 200
    assert response.context["month"] is None


# --- the grid worker's phone form ----------------------------------------------


def test_propose_page_needs_login(client):
    response = client.get(reverse("m:points:propose"))
    assert response.status_code == 302


def test_grid_worker_proposes_from_the_phone(client, grid_worker, resident, rule_item):
    client.force_login(grid_worker)
    page = client.get(reverse("m:points:propose"))
    assert page.status_code == 200
    key = page.context["form"].initial["idempotency_key"]
    data = {
        "resident": resident.pk,
        "rule_item": rule_item.pk,
        "awarded_on": timezone.localdate().isoformat(),
        "note": "清理楼道",
        "idempotency_key": key,
    }
    first = client.post(reverse("m:points:propose"), data)
    again = client.post(reverse("m:points:propose"), data)  # a double tap
    assert first.status_code == again.status_code == 302
    award = Award.objects.get()
    assert (award.resident, award.proposed_by, award.note) == (
        resident,
        grid_worker,
        "清理楼道",
    )


def test_propose_page_refuses_a_resident_outside_the_grid(
    client, grid_worker, tree, rule_item
):
    neighbour = resident_in(tree["grids"][1])
    client.force_login(grid_worker)
    response = client.post(
        reverse("m:points:propose"),
        {
            "resident": neighbour.pk,
            "rule_item": rule_item.pk,
            "awarded_on": timezone.localdate().isoformat(),
            "idempotency_key": "k",
        },
    )
    assert response.status_code == 200
    assert "resident" in response.context["form"].errors
    assert not Award.objects.exists()


def test_propose_page_shows_service_errors(client, grid_worker, resident, rule_item):
    client.force_login(grid_worker)
    response = client.post(
        reverse("m:points:propose"),
        {
            "resident": resident.pk,
            "rule_item": rule_item.pk,
            "awarded_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
            "idempotency_key": "k",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not Award.objects.exists()


def test_supervisor_gets_no_propose_page(client, tree):
    client.force_login(UserFactory(role=UserRole.SUPERVISOR, region=tree["district"]))
    assert client.get(reverse("m:points:propose")).status_code == 404


@pytest.mark.parametrize("name", ["statement", "rankings"])
def test_public_pages_extend_the_base_template(client, tree, resident, name):
    url = (
        statement_url(resident)
        if name == "statement"
        else rankings_url(tree["communities"][0])
    )
    response = client.get(url)
    assert "base.html" in [t.name for t in response.templates]
    assert 'name="viewport"' in response.content.decode()
