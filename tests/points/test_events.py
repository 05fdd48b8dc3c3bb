"""The award and redemption logs and the ledger are append-only (model,
queryset and PostgreSQL trigger), and the migration backfills the history of
awards and redemptions made before the logs existed."""

import importlib

import time_machine
from django.apps import apps
from django.utils import timezone

from grids.append_only import AppendOnlyError
from points import services
from points.choices import AwardAction, AwardStatus, RedemptionAction
from points.models import AwardEvent, LedgerEntry, RedemptionEvent
from tests.append_only import assert_append_only
from tests.points.factories import AwardFactory, PrizeFactory, next_key

backfill_events = importlib.import_module(
    "points.migrations.0002_award_redemption_events"
).backfill_events


def _approved_award(grid_worker, community_staff, resident, rule_item):
    award, _ = services.award_propose(
        actor=grid_worker,
        resident_id=resident.pk,
        rule_item_id=rule_item.pk,
        awarded_on=timezone.localdate(),
        idempotency_key=next_key(),
    )
    services.award_approve(actor=community_staff, award_id=award.pk)
    return award


def test_award_events_are_append_only(
    grid_worker, community_staff, resident, rule_item
):
    award = _approved_award(grid_worker, community_staff, resident, rule_item)
    assert_append_only(award.events.last(), note="改过")


def test_redemption_events_are_append_only(community_staff, resident, credit):
    credit(resident, 50)
    prize = PrizeFactory(region=resident.household.region.parent, price=20)
    redemption = services.redemption_create(
        actor=community_staff, resident_id=resident.pk, prize_id=prize.pk
    )
    assert_append_only(redemption.events.get(), note="改过")


def test_the_ledger_is_append_only_and_still_a_type_error(resident, credit):
    entry = credit(resident, 10)
    assert issubclass(AppendOnlyError, TypeError)
    assert_append_only(entry, amount=99)
    assert LedgerEntry.objects.get(pk=entry.pk).amount == 10


def test_backfill_writes_one_event_per_decision_with_the_rows_own_times(
    community_staff, street_staff, resident, rule_item, credit
):
    """Rows from before the logs (written without events) get their history."""
    decided_at = timezone.now() - timezone.timedelta(days=3)
    with time_machine.travel(decided_at - timezone.timedelta(days=2), tick=False):
        old = AwardFactory(
            resident=resident,
            rule_item=rule_item,
            status=AwardStatus.REJECTED,
            decided_by=community_staff,
            decided_at=decided_at,
            decision_note="重复",
        )
    pending = AwardFactory(resident=resident, rule_item=rule_item)
    credit(resident, 40)
    prize = PrizeFactory(region=resident.household.region.parent, price=20)
    redemption = services.redemption_create(
        actor=community_staff, resident_id=resident.pk, prize_id=prize.pk
    )
    services.redemption_cancel(
        actor=street_staff, redemption_id=redemption.pk, reason="拿错了"
    )
    # The rows written by the services already have their events: untouched.
    logged = set(AwardEvent.objects.values_list("pk", flat=True))

    backfill_events(apps, None)

    assert [
        (e.action, e.actor_id, e.at, e.from_status, e.to_status, e.note)
        for e in old.events.all()
    ] == [
        (AwardAction.PROPOSE, old.proposed_by_id, old.created_at, "", "proposed", ""),
        (
            AwardAction.REJECT,
            community_staff.pk,
            decided_at,
            "proposed",
            "rejected",
            "重复",
        ),
    ]
    assert list(pending.events.values_list("action", flat=True)) == [
        AwardAction.PROPOSE
    ]
    assert logged <= set(AwardEvent.objects.values_list("pk", flat=True))
    assert list(
        RedemptionEvent.objects.filter(redemption=redemption).values_list(
            "action", flat=True
        )
    ) == [RedemptionAction.REDEEM, RedemptionAction.CANCEL]
    # Running it again adds nothing.
    counts = (AwardEvent.objects.count(), RedemptionEvent.objects.count())
    backfill_events(apps, None)
    assert (AwardEvent.objects.count(), RedemptionEvent.objects.count()) == counts
