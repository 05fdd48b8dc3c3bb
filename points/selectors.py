"""Reads of the points app: policies, statements, the approval queue, rankings,
the ledger check, the ledger checksum and the ledger export rows."""

import datetime as dt
import hashlib

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from grids.choices import RegionLevel
from grids.masking import mask_name
from grids.models import Region
from grids.querysets import ancestors_or_self_q, scope_q, subtree_q

from .choices import AwardStatus
from .models import Award, CommunityPointsPolicy, LedgerEntry, PointsAccount, Prize


def policy_for(community: Region | None) -> CommunityPointsPolicy:
    """The community's policy; the defaults (no pooling, no expiry) if it has none."""
    if community is not None:
        policy = CommunityPointsPolicy.objects.filter(community=community).first()
        if policy is not None:
            return policy
    return CommunityPointsPolicy(community=community)


def account_lookup_for(resident, community=None) -> dict:
    """The filter that finds ``resident``'s account under their community's policy:
    their own, or their household's pooled account. Pass ``community`` when the
    caller already has it."""
    if community is None:
        community = resident.household.region.ancestor_of_level(RegionLevel.COMMUNITY)
    policy = policy_for(community)
    if policy.pool_by_household:
        return {"household_id": resident.household_id, "resident__isnull": True}
    return {"resident_id": resident.pk}


def account_of(resident, community=None) -> PointsAccount | None:
    """``resident``'s account if one is open (reads never open one)."""
    return PointsAccount.objects.filter(
        **account_lookup_for(resident, community)
    ).first()


def period_bounds(day: dt.date, period: str) -> tuple[dt.date, dt.date]:
    """First and last day of the cap period (day/week/month/year) holding ``day``."""
    if period == "day":
        return day, day
    if period == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=6)
    if period == "month":
        start = day.replace(day=1)
        following = (start + dt.timedelta(days=32)).replace(day=1)
        return start, following - dt.timedelta(days=1)
    if period == "year":
        return day.replace(month=1, day=1), day.replace(month=12, day=31)
    raise ValueError(f"unknown cap period {period!r}")


def approved_count_in_period(*, resident_id, rule_item, day: dt.date) -> int:
    start, end = period_bounds(day, rule_item.cap_period)
    return Award.objects.filter(
        resident_id=resident_id,
        rule_item=rule_item,
        status=AwardStatus.APPROVED,
        awarded_on__range=(start, end),
    ).count()


def award_queue(*, actor) -> QuerySet:
    """Proposals waiting for a decision, in the actor's subtree, oldest first."""
    return (
        Award.objects.visible_to(actor)
        .filter(status=AwardStatus.PROPOSED)
        .select_related("resident", "rule_item", "proposed_by")
        .order_by("created_at")
    )


def prizes_available_to(resident) -> QuerySet:
    """Active prizes of the resident's community or street."""
    return (
        Prize.objects.active()
        .available_in(resident.household.region)
        .order_by("price", "name")
    )


def statement(*, resident, history_limit: int = 50) -> dict:
    """What the resident's statement page shows: balance, history, prizes."""
    community = resident.household.region.ancestor_of_level(RegionLevel.COMMUNITY)
    account = account_of(resident, community)
    balance = account.balance if account else 0
    entries = (
        list(
            account.entries.select_related(
                "award__rule_item", "redemption__prize"
            ).order_by("-created_at", "-id")[:history_limit]
        )
        if account
        else []
    )
    prizes = list(prizes_available_to(resident).filter(stock__gt=0))
    return {
        "resident": resident,
        "community": community,
        # The statement link is public (whoever holds it): the name is masked.
        "resident_name": mask_name(resident.name),
        "account": account,
        "balance": balance,
        "entries": entries,
        "affordable": [p for p in prizes if p.price <= balance],
        "other_prizes": [p for p in prizes if p.price > balance],
    }


def leaderboard(
    *, community: Region, year: int, month: int | None = None, limit: int = 20
) -> list[dict]:
    """The 诚信文明 ranking: approved points earned by residents of ``community``
    for deeds in the year or month, highest first; names masked, ties share a rank.
    """
    if month:
        start = dt.date(year, month, 1)
        end = period_bounds(start, "month")[1]
    else:
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    rows = (
        Award.objects.filter(
            subtree_q(community, "resident__household__region"),
            status=AwardStatus.APPROVED,
            awarded_on__range=(start, end),
        )
        .values("resident_id", "resident__name", "resident__household__region__name")
        .annotate(total=Sum("points"))
        .order_by("-total", "resident_id")[:limit]
    )
    ranking, rank, previous = [], 0, None
    for position, row in enumerate(rows, start=1):
        if row["total"] != previous:
            rank, previous = position, row["total"]
        ranking.append(
            {
                "rank": rank,
                "name": mask_name(row["resident__name"]),
                "grid": row["resident__household__region__name"],
                "points": row["total"],
            }
        )
    return ranking


def accounts_with_drift() -> QuerySet:
    """Accounts whose cached balance differs from the sum of their ledger."""
    ledger_sum = (
        LedgerEntry.objects.filter(account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return (
        PointsAccount.objects.annotate(
            ledger_sum=Coalesce(Subquery(ledger_sum), Value(0))
        )
        .exclude(balance=F("ledger_sum"))
        .order_by("pk")
    )


# The columns that make a booking what it is; the checksum covers them all.
LEDGER_CHECKSUM_FIELDS = (
    "pk",
    "account_id",
    "kind",
    "amount",
    "award_id",
    "redemption_id",
    "expiry_year",
    "actor_id",
    "note",
    "created_at",
)


def ledger_checksum(*, chunk_size: int = 5000) -> dict:
    """Row count, sum of points and an MD5 of every ledger row in id order.

    Two databases holding the same ledger give the same three values: the backup
    manifest stores them and a restore is checked against them. The rows are
    read in chunks, so a large ledger does not sit in memory."""
    digest = hashlib.md5(usedforsecurity=False)
    rows = total = 0
    entries = (
        LedgerEntry.objects.order_by("pk")
        .values_list(*LEDGER_CHECKSUM_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    for row in entries:
        values = [v.isoformat() if isinstance(v, dt.datetime) else v for v in row]
        digest.update(repr(values).encode())
        digest.update(b"\n")
        rows += 1
        total += row[3]
    return {"rows": rows, "points": total, "md5": digest.hexdigest()}


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The month as an aware [start, end) in the project's time zone."""
    start = dt.datetime(year, month, 1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return timezone.make_aware(start), timezone.make_aware(end)


def ledger_for_month(*, community: Region, year: int, month: int) -> QuerySet:
    """Ledger entries of a community's accounts booked in the month, in order."""
    start, end = month_bounds(year, month)
    return (
        LedgerEntry.objects.in_subtree(community)
        .filter(created_at__gte=start, created_at__lt=end)
        .select_related(
            "account__household__region",
            "account__resident",
            "award__rule_item",
            "award__resident",
            "redemption__prize",
            "redemption__resident",
            "actor",
        )
        .order_by("created_at", "id")
    )


def prize_list(*, actor) -> QuerySet:
    """The prizes the actor may see: those of their subtree, and those of the
    street above a community (shared with its residents)."""
    condition = scope_q(actor, "region")
    region = getattr(actor, "scope_region", None) if actor.is_authenticated else None
    if region is not None and not actor.is_superuser:
        condition |= ancestors_or_self_q(region, "region")
    return Prize.objects.filter(condition).select_related("region")
