"""Every award and redemption action against every state, from the one table
(``points.choices.AWARD_TRANSITIONS`` / ``REDEMPTION_TRANSITIONS``): allowed
where the table says, refused (wrong_status) everywhere else, with an event row
per decision and none for a refusal."""

import pytest
from django.utils import timezone

from grids.errors import Conflict, NotAllowed, OutOfScope
from points import permissions, services
from points.choices import (
    AWARD_ALLOWED,
    AWARD_TRANSITIONS,
    REDEMPTION_TRANSITIONS,
    AwardAction,
    AwardStatus,
    RedemptionAction,
    RedemptionStatus,
)
from points.models import Award, AwardEvent, Redemption, RedemptionEvent
from tests.points.factories import PrizeFactory, next_key


def _propose(actor, resident, rule_item) -> Award:
    award, _ = services.award_propose(
        actor=actor,
        resident_id=resident.pk,
        rule_item_id=rule_item.pk,
        awarded_on=timezone.localdate(),
        idempotency_key=next_key(),
    )
    return award


def _take_award_action(action, *, actor, award):
    if action == AwardAction.APPROVE:
        return services.award_approve(actor=actor, award_id=award.pk)
    return services.award_reject(actor=actor, award_id=award.pk, reason="不符合")


def award_in(status, *, proposer, decider, resident, rule_item) -> Award:
    """An award walked to ``status`` through the real services."""
    award = _propose(proposer, resident, rule_item)
    for action, (starts, to) in AWARD_TRANSITIONS.items():
        if to == status and award.status in starts:
            _take_award_action(action, actor=decider, award=award)
    award.refresh_from_db()
    assert award.status == status
    return award


def test_the_graph_is_derived_from_the_action_table():
    assert {
        AwardStatus.PROPOSED: {AwardStatus.APPROVED, AwardStatus.REJECTED},
        AwardStatus.APPROVED: set(),
        AwardStatus.REJECTED: set(),
    } == AWARD_ALLOWED
    assert set(AWARD_TRANSITIONS) == set(AwardAction) - {AwardAction.PROPOSE}


@pytest.mark.parametrize("status", list(AwardStatus))
@pytest.mark.parametrize("action", list(AWARD_TRANSITIONS))
def test_every_award_action_against_every_status(
    grid_worker, community_staff, resident, rule_item, status, action
):
    award = award_in(
        status,
        proposer=grid_worker,
        decider=community_staff,
        resident=resident,
        rule_item=rule_item,
    )
    starts, to = AWARD_TRANSITIONS[action]
    events_before = AwardEvent.objects.filter(award=award).count()
    if status in starts:
        assert permissions.available_award_actions(community_staff, award) == list(
            AWARD_TRANSITIONS
        )
        _take_award_action(action, actor=community_staff, award=award)
        award.refresh_from_db()
        assert award.status == to
        last = AwardEvent.objects.filter(award=award).last()
        assert (last.action, last.from_status, last.to_status, last.actor) == (
            action,
            status,
            to,
            community_staff,
        )
    else:
        assert action not in permissions.available_award_actions(community_staff, award)
        with pytest.raises(Conflict) as exc:
            _take_award_action(action, actor=community_staff, award=award)
        assert exc.value.code == "wrong_status"
        award.refresh_from_db()
        assert award.status == status
        assert AwardEvent.objects.filter(award=award).count() == events_before


@pytest.mark.parametrize("action", list(AWARD_TRANSITIONS))
def test_a_grid_worker_may_propose_but_not_decide(
    grid_worker, resident, rule_item, action
):
    award = _propose(grid_worker, resident, rule_item)
    assert permissions.available_award_actions(grid_worker, award) == []
    with pytest.raises(NotAllowed):
        _take_award_action(action, actor=grid_worker, award=award)
    award.refresh_from_db()
    assert award.status == AwardStatus.PROPOSED
    assert list(award.events.values_list("action", flat=True)) == [AwardAction.PROPOSE]


@pytest.mark.parametrize("action", list(AWARD_TRANSITIONS))
def test_staff_outside_the_community_may_not_decide(
    street_staff, community_staff, outside_resident, rule_item, action
):
    award = _propose(street_staff, outside_resident, rule_item)
    assert permissions.available_award_actions(community_staff, award) == []
    with pytest.raises(OutOfScope):
        _take_award_action(action, actor=community_staff, award=award)


def test_a_proposal_writes_its_first_event(grid_worker, resident, rule_item):
    award = _propose(grid_worker, resident, rule_item)
    (event,) = award.events.all()
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        AwardAction.PROPOSE,
        "",
        AwardStatus.PROPOSED,
        grid_worker,
    )


def test_the_same_key_twice_is_one_event(grid_worker, resident, rule_item):
    kwargs = {
        "actor": grid_worker,
        "resident_id": resident.pk,
        "rule_item_id": rule_item.pk,
        "awarded_on": timezone.localdate(),
        "idempotency_key": "same",
    }
    award, _ = services.award_propose(**kwargs)
    services.award_propose(**kwargs)
    assert award.events.count() == 1


def test_a_rejection_logs_its_reason(grid_worker, community_staff, resident, rule_item):
    award = _propose(grid_worker, resident, rule_item)
    services.award_reject(actor=community_staff, award_id=award.pk, reason="重复申报")
    assert award.events.last().note == "重复申报"


# --- redemptions -------------------------------------------------------------


@pytest.fixture
def redemption(community_staff, resident, credit):
    credit(resident, 100)
    prize = PrizeFactory(region=resident.household.region.parent, price=30, stock=5)
    return services.redemption_create(
        actor=community_staff, resident_id=resident.pk, prize_id=prize.pk
    )


def _redemption_in(status, redemption, actor) -> Redemption:
    if status == RedemptionStatus.CANCELLED:
        services.redemption_cancel(
            actor=actor, redemption_id=redemption.pk, reason="拿错了"
        )
    redemption.refresh_from_db()
    assert redemption.status == status
    return redemption


@pytest.mark.parametrize("status", list(RedemptionStatus))
@pytest.mark.parametrize("action", list(REDEMPTION_TRANSITIONS))
def test_every_redemption_action_against_every_status(
    community_staff, redemption, status, action
):
    redemption = _redemption_in(status, redemption, community_staff)
    starts, to = REDEMPTION_TRANSITIONS[action]
    before = redemption.events.count()
    if status in starts:
        assert permissions.available_redemption_actions(
            community_staff, redemption
        ) == [action]
        services.redemption_cancel(
            actor=community_staff, redemption_id=redemption.pk, reason="退回"
        )
        redemption.refresh_from_db()
        assert redemption.status == to
        last = redemption.events.last()
        assert (last.action, last.from_status, last.to_status, last.note) == (
            action,
            status,
            to,
            "退回",
        )
    else:
        assert (
            permissions.available_redemption_actions(community_staff, redemption) == []
        )
        with pytest.raises(Conflict) as exc:
            services.redemption_cancel(
                actor=community_staff, redemption_id=redemption.pk, reason="退回"
            )
        assert exc.value.code == "wrong_status"
        assert redemption.events.count() == before


def test_a_redemption_writes_its_first_event(community_staff, redemption):
    (event,) = RedemptionEvent.objects.filter(redemption=redemption)
    assert (event.action, event.to_status, event.actor) == (
        RedemptionAction.REDEEM,
        RedemptionStatus.REDEEMED,
        community_staff,
    )


def test_a_grid_worker_may_not_cancel(grid_worker, redemption):
    assert permissions.available_redemption_actions(grid_worker, redemption) == []
    with pytest.raises(NotAllowed):
        services.redemption_cancel(
            actor=grid_worker, redemption_id=redemption.pk, reason="x"
        )
