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


def test_community_of(tree):
    assert selectors.community_of(tree["grids"][3]) == tree["communities"][1]
    assert selectors.community_of(tree["communities"][0]) == tree["communities"][0]
    assert selectors.community_of(tree["street"]) is None
