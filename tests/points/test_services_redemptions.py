import threading

import pytest
from django.db import IntegrityError, connection, transaction

from grids.choices import UserRole
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from points import services
from points.choices import EntryKind, RedemptionStatus
from points.models import LedgerEntry, PointsAccount, Prize, Redemption
from points.selectors import account_of, accounts_with_drift
from tests.grids.factories import UserFactory
from tests.points.factories import PrizeFactory, resident_in


@pytest.fixture
def prize(tree):
    return PrizeFactory(region=tree["communities"][0], price=30, stock=5)


def redeem(actor, resident, prize, **kwargs):
    return services.redemption_create(
        actor=actor, resident_id=resident.pk, prize_id=prize.pk, **kwargs
    )


def test_redemption_takes_points_and_stock(community_staff, resident, prize, credit):
    credit(resident, 100)
    redemption = redeem(community_staff, resident, prize, quantity=2)
    assert redemption.points == 60 and redemption.status == RedemptionStatus.REDEEMED
    prize.refresh_from_db()
    assert prize.stock == 3
    account = account_of(resident)
    assert account.balance == 40
    entry = LedgerEntry.objects.get(redemption=redemption)
    assert entry.kind == EntryKind.REDEMPTION and entry.amount == -60


def test_not_enough_points_is_refused(community_staff, resident, prize, credit):
    credit(resident, 29)
    with pytest.raises(Conflict) as exc:
        redeem(community_staff, resident, prize)
    assert exc.value.code == "insufficient_points"
    prize.refresh_from_db()
    assert prize.stock == 5
    assert account_of(resident).balance == 29
    assert not Redemption.objects.exists()


def test_resident_without_account_cannot_redeem(community_staff, resident, prize):
    with pytest.raises(Conflict) as exc:
        redeem(community_staff, resident, prize)
    assert exc.value.code == "insufficient_points"


def test_out_of_stock_is_refused(community_staff, resident, prize, credit):
    credit(resident, 1000)
    with pytest.raises(Conflict) as exc:
        redeem(community_staff, resident, prize, quantity=6)
    assert exc.value.code == "out_of_stock"
    assert account_of(resident).balance == 1000


def test_inactive_prize_is_refused(community_staff, resident, prize, credit):
    credit(resident, 100)
    services.prize_update(actor=community_staff, prize_id=prize.pk, is_active=False)
    with pytest.raises(Conflict) as exc:
        redeem(community_staff, resident, prize)
    assert exc.value.code == "prize_inactive"


def test_street_prize_is_shared_but_another_communitys_is_not(
    tree, street_staff, resident, credit
):
    credit(resident, 100)
    shared = PrizeFactory(region=tree["street"], price=10)
    elsewhere = PrizeFactory(region=tree["communities"][1], price=10)
    redeem(street_staff, resident, shared)
    with pytest.raises(OutOfScope):
        redeem(street_staff, resident, elsewhere)
    assert account_of(resident).balance == 90


def test_redeeming_for_a_resident_outside_scope_is_refused(
    tree, community_staff, outside_resident, credit
):
    prize = PrizeFactory(region=tree["communities"][1], price=10)
    credit(outside_resident, 50)
    with pytest.raises(OutOfScope):
        redeem(community_staff, outside_resident, prize)
    assert account_of(outside_resident).balance == 50
    prize.refresh_from_db()
    assert prize.stock == 10


@pytest.mark.parametrize("role", [UserRole.GRID_WORKER, UserRole.SUPERVISOR])
def test_only_staff_redeem(tree, resident, prize, credit, role):
    credit(resident, 100)
    with pytest.raises(NotAllowed):
        redeem(UserFactory(role=role, region=tree["district"]), resident, prize)


def test_redemption_key_makes_a_retry_harmless(
    community_staff, resident, prize, credit
):
    credit(resident, 100)
    first = redeem(community_staff, resident, prize, idempotency_key="r1")
    again = redeem(community_staff, resident, prize, idempotency_key="r1")
    assert first.pk == again.pk
    assert account_of(resident).balance == 70
    with pytest.raises(Conflict):
        redeem(community_staff, resident, prize, idempotency_key="r1", quantity=2)


# --- cancellation --------------------------------------------------------------


def test_cancel_books_a_reversal_and_returns_stock(
    community_staff, resident, prize, credit
):
    credit(resident, 100)
    redemption = redeem(community_staff, resident, prize, quantity=2)
    original = LedgerEntry.objects.get(redemption=redemption)

    reversal = services.redemption_cancel(
        actor=community_staff, redemption_id=redemption.pk, reason="奖品有损坏"
    )

    assert reversal.kind == EntryKind.REVERSAL and reversal.amount == 60
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.CANCELLED
    assert redemption.cancelled_by == community_staff
    prize.refresh_from_db()
    assert prize.stock == 5
    assert account_of(resident).balance == 100
    # The original booking is untouched: the ledger only grows.
    kept = LedgerEntry.objects.get(pk=original.pk)
    assert (kept.kind, kept.amount, kept.created_at) == (
        original.kind,
        original.amount,
        original.created_at,
    )
    assert LedgerEntry.objects.filter(account=original.account).count() == 3
    assert not accounts_with_drift().exists()


def test_cancel_twice_is_refused(community_staff, resident, prize, credit):
    credit(resident, 100)
    redemption = redeem(community_staff, resident, prize)
    services.redemption_cancel(
        actor=community_staff, redemption_id=redemption.pk, reason="撤销"
    )
    with pytest.raises(Conflict) as exc:
        services.redemption_cancel(
            actor=community_staff, redemption_id=redemption.pk, reason="再撤销"
        )
    assert exc.value.code == "wrong_status"
    assert account_of(resident).balance == 100


def test_cancel_needs_a_reason(community_staff, resident, prize, credit):
    credit(resident, 100)
    redemption = redeem(community_staff, resident, prize)
    with pytest.raises(DomainError):
        services.redemption_cancel(
            actor=community_staff, redemption_id=redemption.pk, reason=""
        )


def test_cancel_outside_scope_is_refused(
    tree, resident, prize, credit, community_staff
):
    credit(resident, 100)
    redemption = redeem(community_staff, resident, prize)
    other = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])
    with pytest.raises(OutOfScope):
        services.redemption_cancel(
            actor=other, redemption_id=redemption.pk, reason="越权"
        )
    grid_worker = UserFactory(role=UserRole.GRID_WORKER, region=tree["grids"][0])
    with pytest.raises(NotAllowed):
        services.redemption_cancel(
            actor=grid_worker, redemption_id=redemption.pk, reason="越权"
        )


# --- prizes ----------------------------------------------------------------------


def test_stock_is_adjusted_relatively(community_staff, prize):
    services.prize_adjust_stock(actor=community_staff, prize_id=prize.pk, delta=10)
    prize.refresh_from_db()
    assert prize.stock == 15
    with pytest.raises(Conflict):
        services.prize_adjust_stock(actor=community_staff, prize_id=prize.pk, delta=-16)


def test_prize_of_another_community_cannot_be_created_or_changed(tree, community_staff):
    with pytest.raises(OutOfScope):
        services.prize_create(
            actor=community_staff, region=tree["communities"][1], name="米", price=5
        )
    theirs = PrizeFactory(region=tree["communities"][1])
    with pytest.raises(OutOfScope):
        services.prize_adjust_stock(actor=community_staff, prize_id=theirs.pk, delta=1)
    with pytest.raises(DomainError):
        services.prize_create(
            actor=community_staff, region=tree["grids"][0], name="米", price=5
        )


# --- the database's last line of defence ----------------------------------------


def test_database_refuses_negative_balance_and_stock(resident, prize, credit):
    credit(resident, 10)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsAccount.objects.filter(resident=resident).update(balance=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Prize.objects.filter(pk=prize.pk).update(stock=-1)


# --- concurrency on PostgreSQL -------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks (SELECT … FOR UPDATE) need PostgreSQL",
)


def race(n, work):
    """Run ``work(i)`` in ``n`` threads released together; return their outcomes."""
    barrier = threading.Barrier(n)
    outcomes = [None] * n

    def run(i):
        try:
            barrier.wait()
            work(i)
            outcomes[i] = "ok"
        except DomainError as exc:
            outcomes[i] = exc.code
        except Exception as exc:  # reported: fails the test
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_50_concurrent_redemptions_never_overdraw_one_account(
    tree, community_staff, resident, credit
):
    credit(resident, 100)
    prize = PrizeFactory(region=tree["communities"][0], price=10, stock=100)

    outcomes = race(50, lambda i: redeem(community_staff, resident, prize))

    assert outcomes.count("ok") == 10
    assert outcomes.count("insufficient_points") == 40
    assert account_of(resident).balance == 0
    prize.refresh_from_db()
    assert prize.stock == 90
    assert not accounts_with_drift().exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_50_concurrent_redemptions_of_the_last_prize_take_it_once(
    tree, community_staff, credit
):
    residents = [resident_in(tree["grids"][i % 2]) for i in range(50)]
    for r in residents:
        credit(r, 20)
    prize = PrizeFactory(region=tree["communities"][0], price=20, stock=1)

    outcomes = race(50, lambda i: redeem(community_staff, residents[i], prize))

    assert outcomes.count("ok") == 1
    assert outcomes.count("out_of_stock") == 49
    prize.refresh_from_db()
    assert prize.stock == 0
    assert Redemption.objects.count() == 1
    assert sorted(account_of(r).balance for r in residents) == [0] + [20] * 49
    assert not accounts_with_drift().exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_cancellations_reverse_once(tree, community_staff, resident, credit):
    credit(resident, 100)
    prize = PrizeFactory(region=tree["communities"][0], price=40, stock=3)
    redemption = redeem(community_staff, resident, prize)

    outcomes = race(
        10,
        lambda i: services.redemption_cancel(
            actor=community_staff, redemption_id=redemption.pk, reason="撤销"
        ),
    )

    assert outcomes.count("ok") == 1
    assert outcomes.count("wrong_status") == 9
    assert account_of(resident).balance == 100
    prize.refresh_from_db()
    assert prize.stock == 3


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_respect_the_cap(
    tree, grid_worker, community_staff, resident
):
    from django.utils import timezone

    from points.choices import CapPeriod
    from tests.points.factories import RuleItemFactory

    item = RuleItemFactory(points=5, cap_count=3, cap_period=CapPeriod.MONTH)
    ids = [
        services.award_propose(
            actor=grid_worker,
            resident_id=resident.pk,
            rule_item_id=item.pk,
            awarded_on=timezone.localdate(),
            idempotency_key=f"cap{i}",
        )[0].pk
        for i in range(20)
    ]

    outcomes = race(
        20, lambda i: services.award_approve(actor=community_staff, award_id=ids[i])
    )

    assert outcomes.count("ok") == 3
    assert outcomes.count("cap_reached") == 17
    assert account_of(resident).balance == 15


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_same_proposal_sent_concurrently_is_one_proposal(
    grid_worker, resident, rule_item
):
    from django.utils import timezone

    from points.models import Award

    outcomes = race(
        10,
        lambda i: services.award_propose(
            actor=grid_worker,
            resident_id=resident.pk,
            rule_item_id=rule_item.pk,
            awarded_on=timezone.localdate(),
            idempotency_key="same",
        ),
    )

    assert outcomes == ["ok"] * 10
    assert Award.objects.count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_same_redemption_sent_concurrently_is_one_redemption(
    tree, community_staff, resident, credit
):
    credit(resident, 100)
    prize = PrizeFactory(region=tree["communities"][0], price=10, stock=20)
    returned = [None] * 10

    def work(i):
        returned[i] = redeem(community_staff, resident, prize, idempotency_key="same")

    outcomes = race(10, work)

    assert outcomes == ["ok"] * 10
    assert Redemption.objects.count() == 1
    assert {r.pk for r in returned} == {Redemption.objects.get().pk}
    assert account_of(resident).balance == 90
    prize.refresh_from_db()
    assert prize.stock == 19
    assert not accounts_with_drift().exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_same_key_sent_concurrently_for_different_redemptions_is_refused(
    tree, community_staff, resident, credit
):
    credit(resident, 1000)
    prize = PrizeFactory(region=tree["communities"][0], price=10, stock=100)

    outcomes = race(
        10,
        lambda i: redeem(
            community_staff, resident, prize, quantity=i + 1, idempotency_key="same"
        ),
    )

    assert outcomes.count("ok") == 1
    assert outcomes.count("idempotency_key_reused") == 9
    (redemption,) = Redemption.objects.all()
    assert account_of(resident).balance == 1000 - redemption.points
    assert not accounts_with_drift().exists()
