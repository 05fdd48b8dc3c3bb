"""Writes of the points app: one function per use case.

Every booking goes through here: awards (propose, approve, reject), redemptions
(redeem, cancel), year-end expiry, prizes and policies. The balance of an account
changes only here, in the transaction that inserts its ledger entries, with the
account row locked. Locks are taken in one order: award or redemption first, then
the account, then the prize; so two bookings never wait on each other in a circle.
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import RegionLevel
from grids.errors import Conflict, DomainError, OutOfScope
from grids.models import Region, Resident
from grids.notifications import notify
from grids.permissions import require, require_in_scope
from grids.uploads import validate_image_upload

from . import permissions
from .choices import (
    AWARD_TRANSITIONS,
    REDEMPTION_TRANSITIONS,
    AwardStatus,
    EntryKind,
    RedemptionStatus,
)
from .models import (
    Award,
    CommunityPointsPolicy,
    LedgerEntry,
    PointsAccount,
    Prize,
    Redemption,
    RuleItem,
)
from .selectors import account_lookup_for, approved_count_in_period

MAX_KEY_LENGTH = 64


def _resident_in_scope(actor, resident_id) -> Resident:
    resident = (
        Resident.objects.select_related("household__region")
        .filter(pk=resident_id)
        .first()
    )
    require_in_scope(actor, resident.household.region if resident else None)
    return resident


def _clean_key(idempotency_key: str, *, required: bool) -> str:
    key = (idempotency_key or "").strip()
    if (required and not key) or len(key) > MAX_KEY_LENGTH:
        raise DomainError(
            _("A request key of at most %(n)d characters is required.")
            % {"n": MAX_KEY_LENGTH},
            code="idempotency_key",
        )
    return key


def _locked_account_for(resident: Resident) -> PointsAccount:
    """Open the resident's account (or their household's pooled one) if needed,
    and lock it. Call inside a transaction."""
    lookup = account_lookup_for(resident)
    account = PointsAccount.objects.filter(**lookup).first()
    if account is None:
        try:
            with transaction.atomic():
                account = PointsAccount.objects.create(
                    household_id=resident.household_id,
                    resident_id=lookup.get("resident_id"),
                )
        except IntegrityError:
            # Opened by a concurrent booking a moment ago.
            account = PointsAccount.objects.get(**lookup)
    return PointsAccount.objects.select_for_update().get(pk=account.pk)


def _book(*, account: PointsAccount, kind: str, amount: int, actor, **refs):
    """Insert one ledger entry and move the locked account's cached balance."""
    entry = LedgerEntry.objects.create(
        account=account, kind=kind, amount=amount, actor=actor, **refs
    )
    account.balance += amount
    if account.balance < 0:  # guarded by the callers; the DB check backs it up
        raise Conflict(_("Not enough points."), code="insufficient_points")
    account.save(update_fields=["balance"])
    return entry


# --- Awards ------------------------------------------------------------------


def _same_proposal(award: Award, *, resident_id, rule_item_id, awarded_on, note):
    if (
        award.resident_id != int(resident_id)
        or award.rule_item_id != int(rule_item_id)
        or award.awarded_on != awarded_on
        or award.note != note
    ):
        raise Conflict(
            _("This request key was already used for a different proposal."),
            code="idempotency_key_reused",
            extra={"award_id": award.pk},
        )
    return award


def award_propose(
    *,
    actor,
    resident_id: int,
    rule_item_id: int,
    awarded_on: dt.date,
    idempotency_key: str,
    note: str = "",
    photo=None,
) -> tuple[Award, bool]:
    """A grid worker proposes points for a resident's deed (积分申报).

    The same ``idempotency_key`` sent again by the same proposer returns the first
    proposal (``created`` is False); with different content it is refused.
    """
    require(permissions.can_propose_award(actor))
    key = _clean_key(idempotency_key, required=True)
    note = (note or "").strip()
    existing = Award.objects.filter(proposed_by=actor, idempotency_key=key).first()
    if existing is not None:
        return _same_proposal(
            existing,
            resident_id=resident_id,
            rule_item_id=rule_item_id,
            awarded_on=awarded_on,
            note=note,
        ), False
    resident = _resident_in_scope(actor, resident_id)
    if not resident.is_active:
        raise DomainError(_("This resident is no longer active."), code="inactive")
    if awarded_on > timezone.localdate():
        raise DomainError(_("The deed cannot lie in the future."), code="future_date")
    rule_item = RuleItem.objects.active_on(awarded_on).filter(pk=rule_item_id).first()
    if rule_item is None:
        raise DomainError(
            _("This rule item is not in force on that date."), code="rule_inactive"
        )
    if photo:
        validate_image_upload(photo)
    award = Award(
        resident=resident,
        rule_item=rule_item,
        awarded_on=awarded_on,
        points=rule_item.points,
        note=note,
        proposed_by=actor,
        idempotency_key=key,
    )
    if photo:
        award.photo = photo
    try:
        with transaction.atomic():
            award.save()
    except IntegrityError:
        # The same key arrived twice at once: the other request won.
        existing = Award.objects.get(proposed_by=actor, idempotency_key=key)
        return _same_proposal(
            existing,
            resident_id=resident_id,
            rule_item_id=rule_item_id,
            awarded_on=awarded_on,
            note=note,
        ), False
    return award, True


def _locked_award(actor, award_id) -> Award:
    award = (
        Award.objects.select_for_update(of=("self",))
        .select_related("resident__household__region", "rule_item")
        .filter(pk=award_id)
        .first()
    )
    require_in_scope(actor, award.resident.household.region if award else None)
    return award


def _require_award_transition(award: Award, target: str) -> None:
    if target not in AWARD_TRANSITIONS[award.status]:
        raise Conflict(
            _("This proposal is already %(status)s.")
            % {"status": award.get_status_display()},
            code="wrong_status",
        )


def award_approve(*, actor, award_id: int, note: str = "") -> LedgerEntry:
    """Approve a proposal and book its points (审核通过), enforcing the cap."""
    require(permissions.can_decide_award(actor))
    with transaction.atomic():
        award = _locked_award(actor, award_id)
        _require_award_transition(award, AwardStatus.APPROVED)
        rule_item = award.rule_item
        if not rule_item.is_active_on(award.awarded_on):
            raise Conflict(
                _("This rule item is not in force on that date."),
                code="rule_inactive",
            )
        # Approvals for one resident serialise on their account's lock, so the
        # count below cannot be raced past the cap.
        account = _locked_account_for(award.resident)
        if rule_item.cap_count:
            used = approved_count_in_period(
                resident_id=award.resident_id,
                rule_item=rule_item,
                day=award.awarded_on,
            )
            if used >= rule_item.cap_count:
                raise Conflict(
                    _(
                        "%(resident)s already earned “%(item)s” %(used)d times "
                        "%(period)s (cap %(cap)d)."
                    )
                    % {
                        "resident": award.resident.name,
                        "item": rule_item.name,
                        "used": used,
                        "period": rule_item.get_cap_period_display(),
                        "cap": rule_item.cap_count,
                    },
                    code="cap_reached",
                    extra={"used": used, "cap": rule_item.cap_count},
                )
        entry = _book(
            account=account,
            kind=EntryKind.AWARD,
            amount=award.points,
            actor=actor,
            award=award,
            note=rule_item.name[:200],
        )
        award.status = AwardStatus.APPROVED
        award.decided_by = actor
        award.decided_at = timezone.now()
        award.decision_note = (note or "").strip()[:200]
        award.save(
            update_fields=["status", "decided_by", "decided_at", "decision_note"]
        )
        _notify_proposer(award)
    return entry


def award_reject(*, actor, award_id: int, reason: str) -> Award:
    """Reject a proposal (审核驳回); nothing is booked."""
    require(permissions.can_decide_award(actor))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for the rejection."), code="reason")
    with transaction.atomic():
        award = _locked_award(actor, award_id)
        _require_award_transition(award, AwardStatus.REJECTED)
        award.status = AwardStatus.REJECTED
        award.decided_by = actor
        award.decided_at = timezone.now()
        award.decision_note = reason[:200]
        award.save(
            update_fields=["status", "decided_by", "decided_at", "decision_note"]
        )
        _notify_proposer(award)
    return award


def _notify_proposer(award: Award) -> None:
    if award.proposed_by_id == award.decided_by_id:
        return
    if award.status == AwardStatus.APPROVED:
        title = _("Points approved: %(resident)s, %(item)s") % {
            "resident": award.resident.name,
            "item": award.rule_item.name,
        }
    else:
        title = _("Points rejected: %(resident)s, %(item)s") % {
            "resident": award.resident.name,
            "item": award.rule_item.name,
        }
    transaction.on_commit(
        lambda: notify(
            recipients=[award.proposed_by_id],
            title=title,
            body=award.decision_note,
            dedupe_key=f"points:award:{award.pk}:{award.status}",
        )
    )


def award_bulk_approve(*, actor, award_ids) -> tuple[list[int], dict[int, str]]:
    """Approve many proposals, each in its own transaction: one refused proposal
    (a cap, a lost race) does not hold back the others."""
    approved, refused = [], {}
    for award_id in sorted({int(a) for a in award_ids}):
        try:
            award_approve(actor=actor, award_id=award_id)
        except DomainError as exc:
            refused[award_id] = exc.message
        else:
            approved.append(award_id)
    return approved, refused


# --- Redemptions ---------------------------------------------------------------


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
    key = _clean_key(idempotency_key, required=False)
    if quantity < 1:
        raise DomainError(_("The quantity must be at least 1."), code="quantity")
    if key:
        existing = Redemption.objects.filter(
            redeemed_by=actor, idempotency_key=key
        ).first()
        if existing is not None:
            return _same_redemption(
                existing, resident_id=resident_id, prize_id=prize_id, quantity=quantity
            )
    resident = _resident_in_scope(actor, resident_id)
    with transaction.atomic():
        account = _locked_account_for(resident)
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
        _book(
            account=account,
            kind=EntryKind.REDEMPTION,
            amount=-cost,
            actor=actor,
            redemption=redemption,
            note=prize.name[:200],
        )
        prize.stock -= quantity
        prize.save(update_fields=["stock"])
    return redemption


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
        require_in_scope(
            actor, redemption.account.household.region if redemption else None
        )
        if RedemptionStatus.CANCELLED not in REDEMPTION_TRANSITIONS[redemption.status]:
            raise Conflict(
                _("This redemption is already cancelled."), code="wrong_status"
            )
        account = PointsAccount.objects.select_for_update().get(
            pk=redemption.account_id
        )
        prize = Prize.objects.select_for_update().get(pk=redemption.prize_id)
        entry = _book(
            account=account,
            kind=EntryKind.REVERSAL,
            amount=redemption.points,
            actor=actor,
            redemption=redemption,
            note=reason[:200],
        )
        prize.stock += redemption.quantity
        prize.save(update_fields=["stock"])
        redemption.status = RedemptionStatus.CANCELLED
        redemption.cancelled_by = actor
        redemption.cancelled_at = timezone.now()
        redemption.cancel_reason = reason[:200]
        redemption.save(
            update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason"]
        )
    return entry


# --- Year-end expiry -----------------------------------------------------------


def _year_end(year: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year + 1, 1, 1))


# Accounts locked and booked per transaction by the year-end expiry.
EXPIRY_CHUNK_SIZE = 1000


def _expiring_points(year: int):
    """Per account (an annotation): the points of ``year`` that expire.

    Points spent since the year ended are taken from the oldest points first; what
    is left of the year-end balance expires, never more than the balance."""
    boundary = _year_end(year)

    def ledger_sum(condition: Q):
        return Coalesce(
            Subquery(
                LedgerEntry.objects.filter(condition, account=OuterRef("pk"))
                .order_by()
                .values("account")
                .annotate(total=Sum("amount"))
                .values("total")
            ),
            Value(0),
        )

    at_year_end = ledger_sum(Q(created_at__lt=boundary))
    spent_since = ledger_sum(Q(created_at__gte=boundary, amount__lt=0))
    return Least(F("balance"), Greatest(Value(0), at_year_end + spent_since))


def _expire_chunk(
    *, community: Region, year: int, after_pk: int, chunk_size: int, skip_locked: bool
) -> tuple[int, int | None]:
    """Expire ``year`` on the next chunk of the community's accounts after
    ``after_pk``. Returns the entries booked and the last account id locked (None
    when no account is left). A fixed number of queries, however big the chunk."""
    already = LedgerEntry.objects.filter(
        account=OuterRef("pk"), kind=EntryKind.EXPIRY, expiry_year=year
    )
    with transaction.atomic():
        # Lock first (accounts only, in id order: an account is the only row a
        # booking locks after its award or redemption, so no cycle can form).
        # Accounts busy at the counter are skipped now and taken on the next sweep.
        locked = list(
            PointsAccount.objects.in_subtree(community)
            .filter(pk__gt=after_pk, balance__gt=0)
            .exclude(Exists(already))
            .alias(expiring=_expiring_points(year))
            .filter(expiring__gt=0)
            .select_for_update(of=("self",), skip_locked=skip_locked)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk_size]
        )
        if not locked:
            return 0, None
        # Then read the figures again: after the lock nothing can change them.
        figures = list(
            PointsAccount.objects.filter(pk__in=locked)
            .exclude(Exists(already))
            .annotate(expiring=_expiring_points(year))
            .filter(expiring__gt=0)
            .order_by("pk")
            .values_list("pk", "expiring")
        )
        if figures:
            note = _("Points of %(year)d expired at year end.") % {"year": year}
            now = timezone.now()
            LedgerEntry.objects.bulk_create(
                LedgerEntry(
                    account_id=account_id,
                    kind=EntryKind.EXPIRY,
                    amount=-expiring,
                    expiry_year=year,
                    note=note,
                    created_at=now,
                )
                for account_id, expiring in figures
            )
            # One UPDATE moves every balance by the entry just booked for it.
            PointsAccount.objects.filter(pk__in=[pk for pk, _e in figures]).update(
                balance=F("balance")
                + Subquery(
                    LedgerEntry.objects.filter(
                        account=OuterRef("pk"), kind=EntryKind.EXPIRY, expiry_year=year
                    )
                    .order_by()
                    .values("amount")[:1]
                )
            )
    return len(figures), locked[-1]


def points_expire_year(*, year: int, chunk_size: int = EXPIRY_CHUNK_SIZE) -> int:
    """Book year-end expiry (年末清零) for every account in communities that turned
    it on, set-based: chunks of ``chunk_size`` accounts, each locked, booked with
    one insert and one update in its own transaction.

    Idempotent: an account's year expires once (the database refuses a second
    entry); running again books nothing. Returns the number of entries booked."""
    if year >= timezone.localdate().year:
        raise DomainError(
            _("The year %(year)d has not ended yet.") % {"year": year},
            code="year_not_ended",
        )
    booked = 0
    policies = (
        CommunityPointsPolicy.objects.filter(expire_at_year_end=True)
        .select_related("community")
        .order_by("pk")
    )
    for policy in policies:
        # First sweep skips accounts locked by a booking at that moment; the
        # second waits for them (only they are left to expire).
        for skip_locked in (True, False):
            after_pk = 0
            while after_pk is not None:
                count, after_pk = _expire_chunk(
                    community=policy.community,
                    year=year,
                    after_pk=after_pk,
                    chunk_size=chunk_size,
                    skip_locked=skip_locked,
                )
                booked += count
    return booked


# --- Prizes and policies ---------------------------------------------------------


def _require_prize_region(actor, region: Region) -> None:
    require_in_scope(actor, region)
    if region.level not in (RegionLevel.COMMUNITY, RegionLevel.STREET):
        raise DomainError(
            _("A prize belongs to a community or a street."), code="invalid"
        )


def prize_create(
    *,
    actor,
    region: Region,
    name: str,
    price: int,
    stock: int = 0,
    description: str = "",
    is_active: bool = True,
) -> Prize:
    require(permissions.can_manage_prizes(actor))
    _require_prize_region(actor, region)
    if price is None or price < 1 or stock is None or stock < 0:
        raise DomainError(
            _("The price must be positive and the stock not negative."),
            code="invalid",
        )
    return Prize.objects.create(
        region=region,
        name=(name or "").strip(),
        description=(description or "").strip(),
        price=price,
        stock=stock,
        is_active=is_active,
    )


PRIZE_EDITABLE_FIELDS = ("name", "description", "price", "is_active")


def prize_update(*, actor, prize_id: int, **changes) -> Prize:
    """Change a prize's own fields. Its stock changes by ``prize_adjust_stock``."""
    unknown = set(changes) - set(PRIZE_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            _("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    require(permissions.can_manage_prizes(actor))
    with transaction.atomic():
        prize = (
            Prize.objects.select_for_update(of=("self",))
            .select_related("region")
            .filter(pk=prize_id)
            .first()
        )
        require_in_scope(actor, prize.region if prize else None)
        if "price" in changes and (changes["price"] is None or changes["price"] < 1):
            raise DomainError(_("The price must be positive."), code="invalid")
        for field, value in changes.items():
            setattr(prize, field, value)
        prize.save(update_fields=list(changes) or None)
    return prize


def prize_adjust_stock(*, actor, prize_id: int, delta: int) -> Prize:
    """Add (or take back) stock; relative, so it never overwrites a redemption."""
    require(permissions.can_manage_prizes(actor))
    with transaction.atomic():
        prize = (
            Prize.objects.select_for_update(of=("self",))
            .select_related("region")
            .filter(pk=prize_id)
            .first()
        )
        require_in_scope(actor, prize.region if prize else None)
        if prize.stock + delta < 0:
            raise Conflict(
                _("Only %(stock)d left of this prize.") % {"stock": prize.stock},
                code="out_of_stock",
            )
        prize.stock += delta
        prize.save(update_fields=["stock"])
    return prize


def policy_set(
    *,
    actor,
    community: Region,
    pool_by_household: bool,
    expire_at_year_end: bool,
) -> CommunityPointsPolicy:
    """Set a community's points policy (pooling per household, year-end expiry)."""
    require(permissions.can_manage_policy(actor))
    require_in_scope(actor, community)
    if community.level != RegionLevel.COMMUNITY:
        raise DomainError(_("A points policy belongs to a community."), code="invalid")
    with transaction.atomic():
        policy, _created = (
            CommunityPointsPolicy.objects.select_for_update().get_or_create(
                community=community
            )
        )
        policy.pool_by_household = pool_by_household
        policy.expire_at_year_end = expire_at_year_end
        policy.save(
            update_fields=["pool_by_household", "expire_at_year_end", "updated_at"]
        )
    return policy
