"""Year-end expiry (年末清零): set-based, chunked, idempotent."""

import datetime as dt

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.errors import DomainError
from grids.models import Region

from ..choices import EntryKind
from ..models import CommunityPointsPolicy, LedgerEntry, PointsAccount


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
