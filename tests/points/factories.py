"""Factories of the points app."""

import itertools

import factory
from django.utils import timezone

from points.choices import AwardStatus
from points.models import Award, Prize, RuleCategory, RuleItem
from tests.grids.factories import (
    HouseholdFactory,
    RegionFactory,
    ResidentFactory,
    UserFactory,
)

_keys = itertools.count(1)


def next_key() -> str:
    return f"key-{next(_keys)}"


class RuleCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleCategory

    code = factory.Sequence(lambda n: f"cat-{n}")
    name = factory.Sequence(lambda n: f"类别{n}")


class RuleItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleItem

    category = factory.SubFactory(RuleCategoryFactory)
    code = factory.Sequence(lambda n: f"item-{n}")
    name = factory.Sequence(lambda n: f"事项{n}")
    points = 10
    cap_count = None
    cap_period = ""


class AwardFactory(factory.django.DjangoModelFactory):
    """A proposal written straight to the table; approve it through the service."""

    class Meta:
        model = Award

    resident = factory.SubFactory(ResidentFactory)
    rule_item = factory.SubFactory(RuleItemFactory)
    awarded_on = factory.LazyFunction(timezone.localdate)
    points = factory.LazyAttribute(lambda o: o.rule_item.points)
    status = AwardStatus.PROPOSED
    proposed_by = factory.SubFactory(UserFactory)
    idempotency_key = factory.LazyFunction(next_key)


class PrizeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prize

    region = factory.SubFactory(RegionFactory, community=True)
    name = factory.Sequence(lambda n: f"奖品{n}")
    price = 50
    stock = 10


def resident_in(grid, **kwargs):
    """A resident of a new household in ``grid``."""
    return ResidentFactory(household=HouseholdFactory(region=grid), **kwargs)


def book_at(resident, amount: int, at, *, actor=None):
    """Book ``amount`` on the resident's account at a past moment ``at``.

    Services always book "now"; expiry tests need last year's bookings. This writes
    the rows the services would write (an approved award or a redemption and its
    entry) with the given time, and moves the cached balance with them.
    """
    from django.db.models import F

    from points.choices import EntryKind
    from points.models import LedgerEntry, PointsAccount, Redemption

    actor = actor or UserFactory()
    account, _ = PointsAccount.objects.get_or_create(
        resident=resident, defaults={"household": resident.household}
    )
    if amount > 0:
        award = AwardFactory(
            resident=resident,
            rule_item=RuleItemFactory(points=amount),
            status=AwardStatus.APPROVED,
            awarded_on=at.date(),
            proposed_by=actor,
        )
        refs = {"kind": EntryKind.AWARD, "award": award}
    else:
        prize = PrizeFactory(price=-amount, stock=0)
        redemption = Redemption.objects.create(
            account=account,
            resident=resident,
            prize=prize,
            points=-amount,
            redeemed_by=actor,
        )
        refs = {"kind": EntryKind.REDEMPTION, "redemption": redemption}
    LedgerEntry.objects.create(account=account, amount=amount, created_at=at, **refs)
    PointsAccount.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
    return account
