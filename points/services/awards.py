"""Awards (积分申报): a grid worker proposes (网格员提议), community staff approve
or reject (社区审核). Each decision is one action of ``AWARD_TRANSITIONS``,
checked after the lock by ``permissions.require_award_action``, and writes one
``AwardEvent`` in the same transaction.
"""

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.errors import Conflict, DomainError
from grids.notifications import notify
from grids.permissions import require
from grids.photos import photo_from_upload

from .. import permissions
from ..choices import AWARD_TRANSITIONS, AwardAction, AwardStatus, EntryKind
from ..models import Award, AwardEvent, LedgerEntry, RuleItem
from ..selectors import approved_count_in_period
from .accounts import book, clean_key, locked_account_for, resident_in_scope


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


DEFAULT_DEED_MAX_AGE_DAYS = 90


def deed_max_age_days() -> int:
    """How far back a deed may lie (``POINTS_DEED_MAX_AGE_DAYS``, read per call)."""
    return int(getattr(settings, "POINTS_DEED_MAX_AGE_DAYS", DEFAULT_DEED_MAX_AGE_DAYS))


def deed_date_window() -> tuple[dt.date, dt.date]:
    """The first and last day a deed may be dated today."""
    today = timezone.localdate()
    return today - dt.timedelta(days=deed_max_age_days()), today


def check_deed_date(awarded_on: dt.date, *, error=DomainError) -> None:
    """Refuse a deed dated in the future or before the window: backdating must
    not reach periods whose caps nobody watches any more."""
    earliest, today = deed_date_window()
    if awarded_on > today:
        raise error(_("The deed cannot lie in the future."), code="future_date")
    if awarded_on < earliest:
        raise error(
            _("The deed lies too far back: at most %(days)d days (since %(date)s).")
            % {"days": deed_max_age_days(), "date": earliest.isoformat()},
            code="deed_too_old",
            extra={"earliest": earliest.isoformat()},
        )


def _record(award: Award, *, action: str, actor, from_status: str, note: str = ""):
    """Append the award's event for ``action`` (inside the caller's transaction)."""
    return AwardEvent.objects.create(
        award=award,
        action=action,
        actor=actor,
        at=timezone.now(),
        from_status=from_status,
        to_status=award.status,
        note=note[:200],
    )


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
    key = clean_key(idempotency_key, required=True)
    note = (note or "").strip()
    same = {
        "resident_id": resident_id,
        "rule_item_id": rule_item_id,
        "awarded_on": awarded_on,
        "note": note,
    }
    existing = Award.objects.filter(proposed_by=actor, idempotency_key=key).first()
    if existing is not None:
        return _same_proposal(existing, **same), False
    resident = resident_in_scope(actor, resident_id)
    if not resident.is_active:
        raise DomainError(_("This resident is no longer active."), code="inactive")
    check_deed_date(awarded_on)
    rule_item = RuleItem.objects.active_on(awarded_on).filter(pk=rule_item_id).first()
    if rule_item is None:
        raise DomainError(
            _("This rule item is not in force on that date."), code="rule_inactive"
        )
    stored = photo_from_upload(photo) if photo else None
    award = Award(
        resident=resident,
        rule_item=rule_item,
        awarded_on=awarded_on,
        points=rule_item.points,
        note=note,
        proposed_by=actor,
        idempotency_key=key,
    )
    if stored:
        award.photo = stored.content
    with transaction.atomic():
        try:
            with transaction.atomic():
                award.save()
        except IntegrityError:
            # The same key arrived twice at once: the other request won.
            existing = Award.objects.get(proposed_by=actor, idempotency_key=key)
            return _same_proposal(existing, **same), False
        _record(award, action=AwardAction.PROPOSE, actor=actor, from_status="")
    return award, True


def _locked_award(actor, award_id, action) -> Award:
    award = (
        Award.objects.select_for_update(of=("self",))
        .select_related("resident__household__region", "rule_item")
        .filter(pk=award_id)
        .first()
    )
    permissions.require_award_action(actor, award, action)
    return award


def _decide(award: Award, *, action: str, actor, note: str) -> None:
    """Move the locked award as ``action`` says, and log it."""
    from_status = award.status
    award.status = AWARD_TRANSITIONS[action][1]
    award.decided_by = actor
    award.decided_at = timezone.now()
    award.decision_note = note[:200]
    award.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _record(award, action=action, actor=actor, from_status=from_status, note=note)
    _notify_proposer(award)


def award_approve(*, actor, award_id: int, note: str = "") -> LedgerEntry:
    """Approve a proposal and book its points (审核通过), enforcing the cap."""
    with transaction.atomic():
        award = _locked_award(actor, award_id, AwardAction.APPROVE)
        # Again after the lock: the window may have moved on since the proposal.
        check_deed_date(award.awarded_on, error=Conflict)
        rule_item = award.rule_item
        if not rule_item.is_active_on(award.awarded_on):
            raise Conflict(
                _("This rule item is not in force on that date."),
                code="rule_inactive",
            )
        # Approvals for one resident serialise on their account's lock, so the
        # count below cannot be raced past the cap. It counts the approvals in the
        # period (day/week/month/year) of the deed's own date, past ones too.
        account = locked_account_for(award.resident)
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
        entry = book(
            account=account,
            kind=EntryKind.AWARD,
            amount=award.points,
            actor=actor,
            award=award,
            note=rule_item.name[:200],
        )
        _decide(
            award, action=AwardAction.APPROVE, actor=actor, note=(note or "").strip()
        )
    return entry


def award_reject(*, actor, award_id: int, reason: str) -> Award:
    """Reject a proposal (审核驳回); nothing is booked."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for the rejection."), code="reason")
    with transaction.atomic():
        award = _locked_award(actor, award_id, AwardAction.REJECT)
        _decide(award, action=AwardAction.REJECT, actor=actor, note=reason)
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
