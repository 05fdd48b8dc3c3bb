"""Scope isolation: a community's staff cannot see or change another community's
households, in the services, the selectors and the admin pages."""

import pytest
from django.urls import reverse

from grids import selectors, services
from grids.errors import OutOfScope
from grids.models import Household, Region
from tests.grids.factories import HouseholdFactory, ResidentFactory, make_tree


@pytest.fixture
def households(tree):
    mine = HouseholdFactory(region=tree["grids"][0], address="本社区1号")
    theirs = HouseholdFactory(
        region=tree["grids"][2], address="隔壁社区1号"
    )  # community 2
    return mine, theirs


def test_selectors_show_only_own_subtree(community_staff, households):
    mine, _theirs = households
    assert list(selectors.household_list(actor=community_staff)) == [mine]


def test_services_refuse_other_communitys_household(community_staff, households):
    _, theirs = households
    with pytest.raises(OutOfScope):
        services.household_update(
            actor=community_staff, household_id=theirs.pk, notes="改"
        )
    with pytest.raises(OutOfScope):
        services.resident_create(
            actor=community_staff,
            household=theirs,
            name="越界",
            id_number="11010519491231002X",
        )
    theirs.refresh_from_db()
    assert theirs.notes == ""


def test_admin_changelist_and_change_view_are_scoped(
    client, community_staff, households
):
    _mine, theirs = households
    client.force_login(community_staff)
    changelist = client.get(reverse("admin:grids_household_changelist"))
    assert changelist.status_code == 200
    assert "本社区1号" in changelist.content.decode()
    assert "隔壁社区1号" not in changelist.content.decode()

    response = client.get(reverse("admin:grids_household_change", args=[theirs.pk]))
    assert response.status_code == 302  # "does not exist" redirect, nothing shown
    response = client.post(
        reverse("admin:grids_household_change", args=[theirs.pk]),
        {
            "region": theirs.region_id,
            "address": "被改了",
            "household_number": "",
            "notes": "",
        },
    )
    theirs.refresh_from_db()
    assert theirs.address == "隔壁社区1号"


def test_admin_region_choices_are_scoped(client, community_staff, tree):
    client.force_login(community_staff)
    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "grids",
            "model_name": "household",
            "field_name": "region",
            "term": "测试区",
        },
    )
    names = {item["text"] for item in response.json()["results"]}
    assert tree["grids"][0].name in names
    assert tree["grids"][2].name not in names


def test_grid_worker_sees_only_own_grid_and_supervisor_cannot_write(
    client, tree, grid_worker, supervisor
):
    visible = set(Region.objects.visible_to(grid_worker))
    assert visible == {tree["grids"][0]}
    client.force_login(supervisor)
    assert client.get(reverse("admin:grids_household_changelist")).status_code == 200
    assert client.get(reverse("admin:grids_household_add")).status_code == 403


def test_user_without_scope_sees_nothing(db):
    from tests.grids.factories import UserFactory

    make_tree()
    user = UserFactory(region=None, role="street_staff")
    assert not Region.objects.visible_to(user).exists()


def test_resident_id_number_is_masked_in_lists_and_on_the_detail_page(
    client, tree, community_staff, supervisor
):
    """Masked everywhere by default; staff get a 显示 link (a reason and a POST
    on the reveal page, tests/grids/test_personal_data.py), supervisors none."""
    resident = ResidentFactory(household__region=tree["grids"][0])
    reveal_url = reverse("admin:grids_resident_reveal", args=[resident.pk])
    client.force_login(community_staff)
    listing = client.get(reverse("admin:grids_resident_changelist")).content.decode()
    assert resident.masked_id_number in listing
    assert resident.id_number not in listing
    detail = client.get(
        reverse("admin:grids_resident_change", args=[resident.pk])
    ).content.decode()
    assert resident.id_number not in detail
    assert resident.phone not in detail
    assert resident.masked_id_number in detail
    assert reveal_url in detail

    client.force_login(supervisor)
    detail = client.get(
        reverse("admin:grids_resident_change", args=[resident.pk])
    ).content.decode()
    assert resident.id_number not in detail
    assert resident.masked_id_number in detail
    assert reveal_url not in detail


def test_restricted_tag_is_hidden_from_roles_not_listed(
    tree, community_staff, supervisor
):
    from tests.grids.factories import ResidentTagFactory

    ResidentTagFactory(code="serious_illness", visible_to_roles=["community_staff"])
    ResidentTagFactory(code="elderly_alone")
    assert {t.code for t in selectors.visible_tag_queryset(community_staff)} == {
        "serious_illness",
        "elderly_alone",
    }
    assert {t.code for t in selectors.visible_tag_queryset(supervisor)} == {
        "elderly_alone"
    }


def test_subtree_listing_takes_fixed_queries_whatever_the_tree_size(
    django_assert_max_num_queries, admin_user
):
    from tests.grids.factories import UserFactory

    small = make_tree(communities=1, grids_per_community=1, name="小")
    big = make_tree(communities=6, grids_per_community=8, name="大")
    for tree_ in (small, big):
        user = UserFactory(region=tree_["street"], role="street_staff")
        user = type(user).objects.select_related("region").get(pk=user.pk)
        for grid in tree_["grids"]:
            HouseholdFactory(region=grid)
        with django_assert_max_num_queries(1):
            rows = list(selectors.grid_list(actor=user))
        assert len(rows) == len(tree_["grids"])
        with django_assert_max_num_queries(1):
            households = [h.region.name for h in selectors.household_list(actor=user)]
        assert len(households) == len(tree_["grids"])
    assert Household.objects.count() == 49


def test_resident_detail_says_who_may_reveal_the_whole_number(
    tree, community_staff, supervisor, other_tree
):
    resident = ResidentFactory(household__region=tree["grids"][0])
    found, whole = selectors.resident_detail(
        actor=community_staff, resident_id=resident.pk
    )
    assert (found, whole) == (resident, True)
    found, whole = selectors.resident_detail(actor=supervisor, resident_id=resident.pk)
    assert (found, whole) == (resident, False)
    outsider = ResidentFactory(household__region=other_tree["grids"][0])
    with pytest.raises(OutOfScope):
        selectors.resident_detail(actor=community_staff, resident_id=outsider.pk)
