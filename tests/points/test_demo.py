import io
import random

from points import demo
from points.choices import AwardStatus
from points.models import (
    Award,
    CommunityPointsPolicy,
    LedgerEntry,
    Prize,
    RuleCategory,
    RuleItem,
)
from points.selectors import accounts_with_drift
from tests.points.factories import resident_in


def test_seed_loads_the_catalogue_and_books_through_the_services(tree, admin_user):
    for grid in tree["grids"]:
        for _ in range(5):
            resident_in(grid)
    out = io.StringIO()

    demo.seed(stdout=out, rng=random.Random(1))

    assert RuleCategory.objects.count() == 5
    assert RuleItem.objects.count() == 40
    assert CommunityPointsPolicy.objects.count() == 2
    assert Prize.objects.filter(region=tree["street"]).count() == 2
    assert Award.objects.filter(status=AwardStatus.APPROVED).exists()
    assert Award.objects.filter(status=AwardStatus.PROPOSED).exists()
    assert (
        LedgerEntry.objects.count()
        >= Award.objects.filter(status=AwardStatus.APPROVED).count()
    )
    assert not accounts_with_drift().exists()

    counts = (Award.objects.count(), LedgerEntry.objects.count(), Prize.objects.count())
    demo.seed(stdout=out, rng=random.Random(2))  # a second run changes nothing
    assert counts == (
        Award.objects.count(),
        LedgerEntry.objects.count(),
        Prize.objects.count(),
    )
    assert "nothing to do" in out.getvalue()


def test_seed_without_a_superuser_loads_catalogue_and_prizes(tree):
    demo.seed(stdout=io.StringIO(), rng=random.Random(1))
    assert RuleItem.objects.count() == 40
    assert Prize.objects.exists()
    assert not Award.objects.exists()
