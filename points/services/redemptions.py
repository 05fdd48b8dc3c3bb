"""Redemptions (兑换): points for a prize, and their cancellation (撤销兑换).

Locks are taken in one order: the redemption first, then the account, then the
prize; so two bookings never wait on each other in a circle. Each decision writes
one ``RedemptionEvent`` in the same transaction.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.errors import Conflict, DomainError, OutOfScope
from grids.history import records_actor
from grids.models import Region
from grids.permissions import require

from .. import permissions
from ..choices import (
    REDEMPTION_TRANSITIONS,
    EntryKind,
    RedemptionAction,
)
from ..models import LedgerEntry, PointsAccount, Prize, Redemption, RedemptionEvent
from .accounts import book, clean_key, locked_account_for, resident_in_scope


def _same_redemption(
    redemption: Redemption, *, resident_id, prize_id, quantity
) -> Redemption:
    if (redemption.resident_id, redemption.prize_id, redemption.quantity) != (
        int(resident_id),
        int(prize_id),
        quantity,
    ):
        raise Conflict(
            _("This request key was already used for a different redemption."),
            code="idempotency_key_reused",
            extra={"redemption_id": redemption.pk},
        )
    return redemption


def _existing_redemption(actor, key: str) -> Redemption | None:
    return Redemption.objects.filter(redeemed_by=actor, idempotency_key=key).first()


def _record(redemption, *, action: str, actor, from_status: str, note: str = ""):
    return RedemptionEvent.objects.create(
        redemption=redemption,
        action=action,
        actor=actor,
        at=timezone.now(),
        from_status=from_status,
        to_status=redemption.status,
        note=note[:200],
    )


@records_actor
def redemption_create(
    *,
    actor,
    resident_id: int,
    prize_id: int,
    quantity: int = 1,
    idempotency_key: str = "",
) -> Redemption:
    """Exchange points for a prize (兑换): points and stock leave in one transaction.

    The account is locked before the prize; balance and stock are checked after
    both locks, and the database refuses a negative balance or stock anyway.
    The same ``idempotency_key`` sent again by the same staff member (even at the
    same moment) returns the first redemption; with different content it is refused.
    """
    require(permissions.can_redeem(actor))
    key = clean_key(idempotency_key, required=False)
    if quantity < 1:
        raise DomainError(_("The quantity must be at least 1."), code="quantity")
    if key:
        existing = _existing_redemption(actor, key)
        if existing is not None:
            return _same_redemption(
                existing, resident_id=resident_id, prize_id=prize_id, quantity=quantity
            )
    resident = resident_in_scope(actor, resident_id)
    with transaction.atomic():
        account = locked_account_for(resident)
        if key:
            # Again after the lock: a retry that waited for the first request's
            # lock finds its redemption here, not an emptied balance or stock.
            existing = _existing_redemption(actor, key)
            if existing is not None:
                return _same_redemption(
                    existing,
                    resident_id=resident_id,
                    prize_id=prize_id,
                    quantity=quantity,
                )
        prize = Prize.objects.select_for_update().filter(pk=prize_id).first()
        prize_region = (
            Region.objects.filter(pk=prize.region_id).first() if prize else None
        )
        if prize_region is None or not prize_region.contains(resident.household.region):
            raise OutOfScope(
                _("This prize is not offered in the resident's community."),
                code="prize_not_available",
            )
        if not prize.is_active:
            raise Conflict(_("This prize is not on offer."), code="prize_inactive")
        if prize.stock < quantity:
            raise Conflict(
                _("Only %(stock)d left of this prize.") % {"stock": prize.stock},
                code="out_of_stock",
                extra={"stock": prize.stock},
            )
        cost = prize.price * quantity
        if account.balance < cost:
            raise Conflict(
                _("Not enough points: %(balance)d, the prize costs %(cost)d.")
                % {"balance": account.balance, "cost": cost},
                code="insufficient_points",
                extra={"balance": account.balance, "cost": cost},
            )
        try:
            with transaction.atomic():
                redemption = Redemption.objects.create(
                    account=account,
                    resident=resident,
                    prize=prize,
                    quantity=quantity,
                    points=cost,
                    redeemed_by=actor,
                    idempotency_key=key,
                )
        except IntegrityError:
            # The same key arrived twice at once: the other request won. Nothing
            # has been booked in this transaction yet, so leaving it is safe.
            existing = (
                Redemption.objects.filter(redeemed_by=actor, idempotency_key=key)
                .exclude(idempotency_key="")
                .first()
            )
            if existing is None:
                raise
            return _same_redemption(
                existing, resident_id=resident_id, prize_id=prize_id, quantity=quantity
            )
        book(
            account=account,
            kind=EntryKind.REDEMPTION,
            amount=-cost,
            actor=actor,
            redemption=redemption,
            note=prize.name[:200],
        )
        prize.stock -= quantity
        prize.save(update_fields=["stock"])
        _record(redemption, action=RedemptionAction.REDEEM, actor=actor, from_status="")
    return redemption


@records_actor
def redemption_cancel(*, actor, redemption_id: int, reason: str) -> LedgerEntry:
    """Cancel a redemption (撤销兑换): a reversing entry returns the points and the
    stock comes back. The original entries stay as they were."""
    require(permissions.can_cancel_redemption(actor))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for the cancellation."), code="reason")
    with transaction.atomic():
        redemption = (
            Redemption.objects.select_for_update(of=("self",))
            .select_related("account__household__region")
            .filter(pk=redemption_id)
            .first()
        )
        permissions.require_redemption_action(
            actor, redemption, RedemptionAction.CANCEL
        )
        account = PointsAccount.objects.select_for_update().get(
            pk=redemption.account_id
        )
        prize = Prize.objects.select_for_update().get(pk=redemption.prize_id)
        entry = book(
            account=account,
            kind=EntryKind.REVERSAL,
            amount=redemption.points,
            actor=actor,
            redemption=redemption,
            note=reason[:200],
        )
        prize.stock += redemption.quantity
        prize.save(update_fields=["stock"])
        from_status = redemption.status
        redemption.status = REDEMPTION_TRANSITIONS[RedemptionAction.CANCEL][1]
        redemption.cancelled_by = actor
        redemption.cancelled_at = timezone.now()
        redemption.cancel_reason = reason[:200]
        redemption.save(
            update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason"]
        )
        _record(
            redemption,
            action=RedemptionAction.CANCEL,
            actor=actor,
            from_status=from_status,
            note=reason,
        )
    return entry
