"""``Household.resident_count``: kept by every service path that adds, moves,
deactivates or reactivates a resident, equal to a recomputation after each; the
repair recount; and the household/resident changelists, whose statement count
does not grow with the number of rows."""

import io

import pytest
import tablib
from django.core.management import call_command
from django.db.models import Count, Q
from django.urls import reverse

from grids import services
from grids.errors import Conflict, OutOfScope
from grids.models import Household, Region
from grids.resources import ResidentResource, import_dataset, import_errors
from tests.grids.factories import HouseholdFactory, ResidentFactory, next_id_number


def _recomputed() -> dict:
    return dict(
        Household.objects.annotate(
            n=Count("residents", filter=Q(residents__is_active=True))
        ).values_list("pk", "n")
    )


def _stored() -> dict:
    return dict(Household.objects.values_list("pk", "resident_count"))


def _assert_counts_match():
    assert _stored() == _recomputed()


@pytest.fixture
def two_households(tree):
    return (
        HouseholdFactory(region=tree["grids"][0], address="幸福路1号"),
        HouseholdFactory(region=tree["grids"][1], address="幸福路2号"),
    )


def _resident(actor, household, name="张三"):
    return services.resident_create(
        actor=actor, household=household, name=name, id_number=next_id_number()
    )


def test_resident_create_counts_the_resident(street_staff, two_households):
    first, _second = two_households
    _resident(street_staff, first)
    _resident(street_staff, first, "李四")
    _assert_counts_match()
    first.refresh_from_db()
    assert first.resident_count == 2


def test_refused_resident_create_counts_nothing(street_staff, two_households):
    first, _second = two_households
    with pytest.raises(Conflict):
        resident = _resident(street_staff, first)
        services.resident_create(
            actor=street_staff,
            household=first,
            name="重复",
            id_number=resident.id_number,
        )
    _assert_counts_match()
    first.refresh_from_db()
    assert first.resident_count == 1


def test_deactivate_and_reactivate_move_the_count(street_staff, two_households):
    first, _second = two_households
    resident = _resident(street_staff, first)
    services.resident_update(
        actor=street_staff, resident_id=resident.pk, is_active=False
    )
    _assert_counts_match()
    assert Household.objects.get(pk=first.pk).resident_count == 0
    # An edit of an inactive resident leaves the count alone.
    services.resident_update(actor=street_staff, resident_id=resident.pk, name="王五")
    assert Household.objects.get(pk=first.pk).resident_count == 0
    services.resident_update(
        actor=street_staff, resident_id=resident.pk, is_active=True
    )
    _assert_counts_match()
    assert Household.objects.get(pk=first.pk).resident_count == 1


def test_moving_a_resident_moves_the_count(street_staff, two_households):
    first, second = two_households
    resident = _resident(street_staff, first)
    _resident(street_staff, first, "李四")
    services.resident_update(
        actor=street_staff, resident_id=resident.pk, household=second
    )
    _assert_counts_match()
    assert _stored() == {first.pk: 1, second.pk: 1}
    # Moved and deactivated at once: the old household loses it, the new gains
    # nothing.
    services.resident_update(
        actor=street_staff, resident_id=resident.pk, household=first, is_active=False
    )
    _assert_counts_match()
    assert _stored() == {first.pk: 1, second.pk: 0}
    # Moved while inactive, then reactivated where it now lives.
    services.resident_update(
        actor=street_staff, resident_id=resident.pk, household=second
    )
    services.resident_update(
        actor=street_staff, resident_id=resident.pk, is_active=True
    )
    _assert_counts_match()
    assert _stored() == {first.pk: 1, second.pk: 1}


def test_refused_move_outside_scope_keeps_the_count(community_staff, tree, other_tree):
    household = HouseholdFactory(region=tree["grids"][0])
    outside = HouseholdFactory(region=other_tree["grids"][0])
    resident = _resident(community_staff, household)
    with pytest.raises(OutOfScope):
        services.resident_update(
            actor=community_staff, resident_id=resident.pk, household=outside
        )
    _assert_counts_match()
    assert _stored() == {household.pk: 1, outside.pk: 0}


def test_import_counts_the_residents_it_adds_and_moves(admin_user, two_households):
    first, second = two_households
    for n, household in enumerate(two_households, start=1):
        Region.objects.filter(pk=household.region_id).update(
            code=f"370102001001{n:03d}"
        )
        household.region.refresh_from_db()
    moved = _resident(admin_user, first)
    headers = ["region_code", "address", "name", "id_number", "relationship"]
    rows = [
        [first.region.code, first.address, "新人", next_id_number(), "head"],
        [second.region.code, second.address, moved.name, moved.id_number, "head"],
    ]
    result = import_dataset(
        actor=admin_user,
        resource_class=ResidentResource,
        dataset=tablib.Dataset(*rows, headers=headers),
    )
    assert import_errors(result) == []
    _assert_counts_match()
    assert _stored() == {first.pk: 1, second.pk: 1}


def test_recount_repairs_wrong_counts_and_runs_twice(tree, two_households):
    first, second = two_households
    # Rows written around the services (as bulk inserts do) leave counts at 0.
    ResidentFactory(household=first)
    ResidentFactory(household=first)
    ResidentFactory(household=second, is_active=False)
    Household.objects.filter(pk=second.pk).update(resident_count=7)
    assert services.household_resident_counts_refresh() == 2
    _assert_counts_match()
    assert _stored() == {first.pk: 2, second.pk: 0}
    assert services.household_resident_counts_refresh() == 0
    _assert_counts_match()


def test_recount_limited_to_some_households(tree, two_households):
    first, second = two_households
    ResidentFactory(household=first)
    ResidentFactory(household=second)
    assert services.household_resident_counts_refresh(household_ids=[first.pk]) == 1
    assert _stored() == {first.pk: 1, second.pk: 0}


def test_recount_command(tree, two_households):
    first, _second = two_households
    ResidentFactory(household=first)
    out = io.StringIO()
    call_command("recount_households", stdout=out)
    _assert_counts_match()
    first.refresh_from_db()
    first.region.refresh_from_db()
    assert first.resident_count == 1
    assert first.region.population_count == 1
    assert "1" in out.getvalue()


def _fill(tree, households_per_grid, residents_per_household):
    for grid in tree["grids"]:
        for _n in range(households_per_grid):
            household = HouseholdFactory(region=grid)
            for _ in range(residents_per_household):
                ResidentFactory(household=household)
    services.household_resident_counts_refresh()


def _changelist_statements(client, url, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit):
        response = client.get(url)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("households_per_grid", [1, 30])
def test_household_changelist_statements_do_not_grow(
    client, supervisor, tree, households_per_grid, django_assert_max_num_queries
):
    _fill(tree, households_per_grid, 2)
    client.force_login(supervisor)
    response = _changelist_statements(
        client,
        reverse("admin:grids_household_changelist"),
        django_assert_max_num_queries,
        9,
    )
    shown = response.context["cl"].result_list
    assert len(shown) == min(4 * households_per_grid, 100)
    assert {h.resident_count for h in shown} == {2}
    # No aggregate over residents: the count is the column.
    assert "_residents" not in response.context["cl"].queryset.query.annotations
    assert response.context["cl"].show_full_result_count is False


@pytest.mark.parametrize("households_per_grid", [1, 30])
def test_resident_changelist_statements_do_not_grow(
    client, supervisor, tree, households_per_grid, django_assert_max_num_queries
):
    _fill(tree, households_per_grid, 2)
    client.force_login(supervisor)
    response = _changelist_statements(
        client,
        reverse("admin:grids_resident_changelist"),
        django_assert_max_num_queries,
        10,
    )
    assert len(response.context["cl"].result_list) == min(8 * households_per_grid, 100)


def test_household_changelist_hides_outside_households(
    client, supervisor, tree, other_tree
):
    inside = HouseholdFactory(region=tree["grids"][0])
    outside = HouseholdFactory(region=other_tree["grids"][0])
    client.force_login(supervisor)
    response = client.get(reverse("admin:grids_household_changelist"))
    shown = {h.pk for h in response.context["cl"].result_list}
    assert inside.pk in shown
    assert outside.pk not in shown
