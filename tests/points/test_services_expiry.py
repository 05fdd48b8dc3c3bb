import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from grids.errors import DomainError
from points import services, tasks
from points.choices import EntryKind
from points.models import LedgerEntry, PointsAccount
from points.schedules import PERIODIC_TASKS
from points.selectors import accounts_with_drift
from tests.points.factories import book_at, resident_in

LAST_YEAR = timezone.localdate().year - 1


def at(year, month, day):
    return timezone.make_aware(dt.datetime(year, month, day, 10, 0))


@pytest.fixture
def expiring(tree, community_staff):
    """Community 1 turns year-end expiry on; community 2 does not."""
    return services.policy_set(
        actor=community_staff,
        community=tree["communities"][0],
        pool_by_household=False,
        expire_at_year_end=True,
    )


def test_last_years_balance_expires_once(expiring, resident):
    account = book_at(resident, 80, at(LAST_YEAR, 3, 1))
    book_at(resident, -30, at(LAST_YEAR, 6, 1))

    assert services.points_expire_year(year=LAST_YEAR) == 1
    assert services.points_expire_year(year=LAST_YEAR) == 0  # run twice: no change

    account.refresh_from_db()
    assert account.balance == 0
    expiry = LedgerEntry.objects.get(account=account, kind=EntryKind.EXPIRY)
    assert expiry.amount == -50 and expiry.expiry_year == LAST_YEAR
    assert not accounts_with_drift().exists()


def test_points_earned_this_year_do_not_expire(expiring, resident, credit):
    book_at(resident, 40, at(LAST_YEAR, 12, 31))
    credit(resident, 25)  # booked now, after last year ended

    services.points_expire_year(year=LAST_YEAR)

    account = PointsAccount.objects.get(resident=resident)
    assert account.balance == 25


def test_spending_since_year_end_uses_the_old_points_first(
    tree, expiring, resident, community_staff, credit
):
    from tests.points.factories import PrizeFactory

    book_at(resident, 40, at(LAST_YEAR, 5, 1))
    credit(resident, 100)  # now
    prize = PrizeFactory(region=tree["communities"][0], price=30, stock=1)
    services.redemption_create(
        actor=community_staff, resident_id=resident.pk, prize_id=prize.pk
    )  # now: 30 of last year's 40 are spent

    services.points_expire_year(year=LAST_YEAR)

    account = PointsAccount.objects.get(resident=resident)
    assert account.balance == 100  # 140 - 30 spent - 10 expired


def test_communities_without_expiry_keep_their_points(expiring, outside_resident):
    book_at(outside_resident, 60, at(LAST_YEAR, 3, 1))
    assert services.points_expire_year(year=LAST_YEAR) == 0
    assert PointsAccount.objects.get(resident=outside_resident).balance == 60


def test_the_current_year_cannot_expire_yet(expiring):
    with pytest.raises(DomainError) as exc:
        services.points_expire_year(year=timezone.localdate().year)
    assert exc.value.code == "year_not_ended"


def test_expiry_task_runs_twice_without_booking_twice(expiring, resident):
    book_at(resident, 15, at(LAST_YEAR, 8, 8))
    assert tasks.points_expire_last_year.delay().get() == 1
    assert tasks.points_expire_year.delay(LAST_YEAR).get() == 0
    assert LedgerEntry.objects.filter(kind=EntryKind.EXPIRY).count() == 1
    assert PointsAccount.objects.get(resident=resident).balance == 0


def _expiry_queries(tree, n, *, year=LAST_YEAR):
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    for i in range(n):
        book_at(resident_in(tree["grids"][i % 2]), 10 + i, at(year, 5, 1))
    with CaptureQueriesContext(conn) as queries:
        booked = services.points_expire_year(year=year)
    return booked, len(queries)


def test_expiry_queries_do_not_grow_with_the_accounts(tree, expiring):
    few_booked, few = _expiry_queries(tree, 5, year=LAST_YEAR - 1)
    many_booked, many = _expiry_queries(tree, 50)
    assert (few_booked, many_booked) == (5, 50)
    assert many == few


def test_expiry_works_through_the_accounts_in_chunks(tree, expiring):
    residents = [resident_in(tree["grids"][i % 2]) for i in range(7)]
    for r in residents:
        book_at(r, 20, at(LAST_YEAR, 2, 2))
    book_at(residents[3], -20, at(LAST_YEAR, 3, 3))  # nothing left to expire

    assert services.points_expire_year(year=LAST_YEAR, chunk_size=2) == 6
    assert services.points_expire_year(year=LAST_YEAR, chunk_size=2) == 0

    assert LedgerEntry.objects.filter(kind=EntryKind.EXPIRY).count() == 6
    assert set(PointsAccount.objects.values_list("balance", flat=True)) == {0}
    assert not accounts_with_drift().exists()


def test_expiry_never_takes_more_than_the_balance(expiring, resident):
    account = book_at(resident, 50, at(LAST_YEAR, 4, 4))
    # A drifted cache (the nightly check reports it) must not drive it negative.
    PointsAccount.objects.filter(pk=account.pk).update(balance=20)

    assert services.points_expire_year(year=LAST_YEAR) == 1

    account.refresh_from_db()
    assert account.balance == 0
    assert LedgerEntry.objects.get(kind=EntryKind.EXPIRY).amount == -20


def test_periodic_tasks_name_real_tasks():
    from governance.celery import app

    expiry, check = PERIODIC_TASKS
    assert expiry["task"] == tasks.points_expire_last_year.name
    assert expiry["crontab"]["month_of_year"] == "1"
    assert check["task"] == tasks.points_check_ledger.name
    for spec in PERIODIC_TASKS:
        assert spec["task"] in app.tasks


# --- the ledger check ---------------------------------------------------------


def test_check_passes_when_balances_equal_the_ledger(resident, credit, capsys):
    credit(resident, 10)
    call_command("check_points_ledger")
    assert "Every balance" in capsys.readouterr().out


def test_check_fails_on_drift(tree, resident, credit):
    credit(resident, 10)
    empty = resident_in(tree["grids"][1])
    PointsAccount.objects.create(household=empty.household, resident=empty, balance=0)
    assert not accounts_with_drift().exists()  # an empty account sums to 0
    PointsAccount.objects.filter(resident=resident).update(balance=11)
    (drifted,) = accounts_with_drift()
    assert drifted.resident == resident and drifted.ledger_sum == 10
    with pytest.raises(CommandError) as exc:
        call_command("check_points_ledger")
    assert exc.value.returncode == 1


def test_nightly_check_task_reports_drift(resident, credit, caplog):
    credit(resident, 10)
    assert tasks.points_check_ledger.delay().get() == 0
    PointsAccount.objects.filter(resident=resident).update(balance=3)
    assert tasks.points_check_ledger.delay().get() == 1
    assert "ledger 10" in caplog.text


def test_ledger_is_append_only(resident, credit):
    entry = credit(resident, 10)
    entry.amount = 1000
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=1000)
    with pytest.raises(TypeError):
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == 10


def test_the_same_award_is_never_booked_twice(resident, credit):
    from django.db import IntegrityError, transaction

    entry = credit(resident, 10)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=entry.account, kind=EntryKind.AWARD, amount=10, award=entry.award
        )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger is PostgreSQL's"
)
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE points_ledgerentry SET amount = 1000 WHERE id = %s",
        "DELETE FROM points_ledgerentry WHERE id = %s",
    ],
)
def test_database_refuses_to_edit_or_delete_ledger_rows(resident, credit, sql):
    entry = credit(resident, 10)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute(sql, [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).amount == 10


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks (SELECT … FOR UPDATE SKIP LOCKED) need PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_expiry_and_redemptions_at_the_same_time(tree, expiring, community_staff):
    import threading

    from points.models import Redemption
    from tests.points.factories import PrizeFactory

    residents = [resident_in(tree["grids"][i % 2]) for i in range(20)]
    for r in residents:
        book_at(r, 50, at(LAST_YEAR, 6, 6))
    prize = PrizeFactory(region=tree["communities"][0], price=30, stock=100)
    barrier = threading.Barrier(len(residents) + 1)
    outcomes = {}

    def run(name, work):
        try:
            barrier.wait()
            work()
            outcomes[name] = "ok"
        except DomainError as exc:
            outcomes[name] = exc.code
        except Exception as exc:  # reported: fails the test
            outcomes[name] = repr(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=run,
            args=(
                r.pk,
                lambda r=r: services.redemption_create(
                    actor=community_staff, resident_id=r.pk, prize_id=prize.pk
                ),
            ),
        )
        for r in residents
    ]
    threads.append(
        threading.Thread(
            target=run,
            args=("expiry", lambda: services.points_expire_year(year=LAST_YEAR)),
        )
    )
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert outcomes.pop("expiry") == "ok"
    assert set(outcomes.values()) <= {"ok", "insufficient_points"}
    # Redeemed first: 30 spent, the other 20 expire. Expired first: nothing left
    # to redeem. Either way every account expires once and ends at zero.
    assert set(PointsAccount.objects.values_list("balance", flat=True)) == {0}
    assert LedgerEntry.objects.filter(kind=EntryKind.EXPIRY).count() == 20
    assert Redemption.objects.count() == list(outcomes.values()).count("ok")
    assert not accounts_with_drift().exists()
