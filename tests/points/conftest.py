"""Fixtures of the points tests."""

import pytest
from django.utils import timezone

from points import services
from tests.points.factories import RuleItemFactory, next_key, resident_in


@pytest.fixture
def resident(tree):
    """A resident of grid 1 of community 1 (the community_staff's subtree)."""
    return resident_in(tree["grids"][0], name="张三丰")


@pytest.fixture
def outside_resident(tree):
    """A resident of community 2: outside community_staff's subtree."""
    return resident_in(tree["grids"][2], name="李四")


@pytest.fixture
def rule_item(db):
    return RuleItemFactory(points=10)


@pytest.fixture
def credit(street_staff):
    """Give a resident points through the real propose → approve path."""

    def _credit(resident, points, *, day=None):
        item = RuleItemFactory(points=points)
        award, _ = services.award_propose(
            actor=street_staff,
            resident_id=resident.pk,
            rule_item_id=item.pk,
            awarded_on=day or timezone.localdate(),
            idempotency_key=next_key(),
        )
        return services.award_approve(actor=street_staff, award_id=award.pk)

    return _credit
