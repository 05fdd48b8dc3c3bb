from django.utils import timezone

from points import selectors
from tests.points.factories import AwardFactory, PrizeFactory, resident_in


def test_award_queue_is_scoped_and_one_query(
    community_staff, resident, outside_resident, rule_item, django_assert_num_queries
):
    mine = [AwardFactory(resident=resident, rule_item=rule_item) for _ in range(3)]
    AwardFactory(resident=outside_resident, rule_item=rule_item)
    with django_assert_num_queries(1):
        queue = list(selectors.award_queue(actor=community_staff))
        assert [a.resident.name for a in queue] == [resident.name] * 3
        assert {a.rule_item.pk for a in queue} == {rule_item.pk}
    assert [a.pk for a in queue] == [a.pk for a in mine]


def test_leaderboard_is_one_query(tree, credit, django_assert_num_queries):
    for i in range(5):
        credit(resident_in(tree["grids"][0]), 10 + i)
    with django_assert_num_queries(1):
        ranking = selectors.leaderboard(
            community=tree["communities"][0], year=timezone.localdate().year
        )
    assert [r["points"] for r in ranking] == [14, 13, 12, 11, 10]
    assert all("*" in r["name"] for r in ranking)


def test_prizes_available_to_a_resident(tree, resident):
    own = PrizeFactory(region=tree["communities"][0])
    street = PrizeFactory(region=tree["street"])
    PrizeFactory(region=tree["communities"][1])
    PrizeFactory(region=tree["communities"][0], is_active=False)
    assert set(selectors.prizes_available_to(resident)) == {own, street}


def test_the_points_app_keeps_no_copy_of_the_grids_helpers():
    from grids import permissions as grids_permissions
    from points import permissions

    # The community comes from Region.ancestor_of_level, the active-user rule
    # from grids.permissions: one definition each.
    assert not hasattr(selectors, "community_of")
    assert not hasattr(permissions, "_active")
    assert permissions.has_role is grids_permissions.has_role


def test_policy_of_a_building_is_its_communitys(tree, community_staff):
    from grids.choices import RegionLevel
    from points import services
    from tests.grids.factories import HouseholdFactory, RegionFactory, ResidentFactory

    services.policy_set(
        actor=community_staff,
        community=tree["communities"][0],
        pool_by_household=True,
        expire_at_year_end=False,
    )
    building = RegionFactory(parent=tree["grids"][0], level=RegionLevel.BUILDING)
    resident = ResidentFactory(household=HouseholdFactory(region=building))
    assert selectors.account_lookup_for(resident) == {
        "household_id": resident.household_id,
        "resident__isnull": True,
    }
