"""Accounts and bookings: the helpers every booking service shares.

The balance of an account changes only here (``book``), in the transaction that
inserts its ledger entry, with the account row locked.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from grids.errors import Conflict, DomainError
from grids.models import Resident
from grids.permissions import require_in_scope

from ..models import LedgerEntry, PointsAccount
from ..selectors import account_lookup_for

MAX_KEY_LENGTH = 64


def resident_in_scope(actor, resident_id) -> Resident:
    resident = (
        Resident.objects.select_related("household__region")
        .filter(pk=resident_id)
        .first()
    )
    require_in_scope(actor, resident.household.region if resident else None)
    return resident


def clean_key(idempotency_key: str, *, required: bool) -> str:
    key = (idempotency_key or "").strip()
    if (required and not key) or len(key) > MAX_KEY_LENGTH:
        raise DomainError(
            _("A request key of at most %(n)d characters is required.")
            % {"n": MAX_KEY_LENGTH},
            code="idempotency_key",
        )
    return key


def locked_account_for(resident: Resident) -> PointsAccount:
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


def book(*, account: PointsAccount, kind: str, amount: int, actor, **refs):
    """Insert one ledger entry and move the locked account's cached balance."""
    entry = LedgerEntry.objects.create(
        account=account, kind=kind, amount=amount, actor=actor, **refs
    )
    account.balance += amount
    if account.balance < 0:  # guarded by the callers; the DB check backs it up
        raise Conflict(_("Not enough points."), code="insufficient_points")
    account.save(update_fields=["balance"])
    return entry
