"""Reads of the partyorg app, scoped to the actor: the coverage report, the grid
heads who are party members, 双报到 totals and stale micro-wishes."""

import datetime as dt

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from grids import permissions as grid_permissions
from grids.choices import RegionLevel, WorkerRole
from grids.models import GridAssignment, Region
from grids.querysets import ancestors_or_self_q, subtree_q

from .choices import COVERING_TYPES
from .models import PartyMember, PartyOrg, ServiceRecord, Wish
from .services.wishes import stale_wish_q


def _scope_region(actor, region: Region | None) -> Region | None:
    """The node a report is about: ``region`` (checked) or the actor's scope."""
    if region is not None:
        grid_permissions.require_in_scope(actor, region)
        return region
    return None if actor.is_superuser else actor.scope_region


def _grids(actor, region: Region | None) -> QuerySet:
    region = _scope_region(actor, region)
    qs = Region.objects.filter(level=RegionLevel.GRID, is_active=True)
    if region is not None:
        qs = qs.in_subtree(region)
    elif not actor.is_superuser:
        qs = qs.none()
    return qs


def party_org_covers_grid() -> Exists:
    """A condition on grid rows: an active grid branch or building group covers
    the grid itself or a building inside it (MPTT range on the Region columns)."""
    return Exists(
        PartyOrg.objects.filter(
            is_active=True,
            org_type__in=COVERING_TYPES,
            region__tree_id=OuterRef("tree_id"),
            region__lft__gte=OuterRef("lft"),
            region__rght__lte=OuterRef("rght"),
        )
    )


def party_coverage(*, actor, region: Region | None = None) -> dict:
    """支部建在网格上: how many grids of the subtree have a party organisation, in
    one query. ``rate`` is covered / total (None without grids)."""
    figures = (
        _grids(actor, region)
        .annotate(has_party_org=party_org_covers_grid())
        .aggregate(
            total=Count("pk"),
            covered=Count("pk", filter=Q(has_party_org=True)),
        )
    )
    figures["uncovered"] = figures["total"] - figures["covered"]
    figures["rate"] = (
        figures["covered"] / figures["total"] if figures["total"] else None
    )
    return figures


def grids_without_party_org(*, actor, region: Region | None = None) -> QuerySet:
    """Grids of the subtree without a party organisation, in tree order."""
    return (
        _grids(actor, region)
        .exclude(party_org_covers_grid())
        .select_related("parent")
        .order_by("tree_id", "lft")
    )


def coverage_by_child(*, actor, region: Region) -> QuerySet:
    """The children of ``region``, each with its grid total and covered grids:
    the drill-down from a street to its communities, in one query."""
    grid_permissions.require_in_scope(actor, region)

    def grid_count(extra: Q) -> Subquery:
        inner = (
            Region.objects.filter(
                extra,
                level=RegionLevel.GRID,
                is_active=True,
                tree_id=OuterRef("tree_id"),
                lft__gte=OuterRef("lft"),
                rght__lte=OuterRef("rght"),
            )
            .order_by()
            .values("tree_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(inner, output_field=IntegerField()), Value(0))

    return (
        Region.objects.filter(parent=region)
        .annotate(
            grid_total=grid_count(Q()),
            grid_covered=grid_count(Q(party_org_covers_grid())),
        )
        .order_by("lft")
    )


def grid_head_party_figures(*, region: Region) -> dict:
    """Grid heads who are party members (seed 003: 90%), seen from both sides.

    ``roster_share`` counts heads on the current roster whose GridWorker is
    flagged ``is_party_member`` (what ``grids.selectors.subtree_worker_figures``
    reports). ``party_share`` counts the same heads that an active PartyMember
    record is linked to (``PartyMember.grid_worker``). They differ when the
    roster flag is set but nobody has entered the member yet, or the other way
    round; ``mismatched_worker_ids`` lists those heads so staff can fix either
    side. One query for the roster figures, one for the mismatches.
    """
    has_member = Exists(
        PartyMember.objects.filter(grid_worker=OuterRef("worker"), is_active=True)
    )
    heads = (
        GridAssignment.objects.current()
        .in_subtree(region)
        .filter(role=WorkerRole.HEAD)
        .annotate(has_member=has_member)
    )
    figures = heads.aggregate(
        heads=Count("worker", distinct=True),
        roster_party_heads=Count(
            "worker", filter=Q(worker__is_party_member=True), distinct=True
        ),
        party_heads=Count("worker", filter=Q(has_member=True), distinct=True),
    )
    total = figures["heads"]
    figures["roster_share"] = figures["roster_party_heads"] / total if total else None
    figures["party_share"] = figures["party_heads"] / total if total else None
    figures["mismatched_worker_ids"] = sorted(
        set(
            heads.filter(
                Q(worker__is_party_member=True, has_member=False)
                | Q(worker__is_party_member=False, has_member=True)
            ).values_list("worker_id", flat=True)
        )
    )
    return figures


def member_list(*, actor) -> QuerySet:
    return PartyMember.objects.visible_to(actor).select_related("organisation")


def _service_records(actor, year: int, region: Region | None) -> QuerySet:
    qs = ServiceRecord.objects.visible_to(actor).filter(
        served_on__gte=dt.date(year, 1, 1), served_on__lte=dt.date(year, 12, 31)
    )
    if region is not None:
        grid_permissions.require_in_scope(actor, region)
        qs = qs.in_subtree(region)
    return qs


def service_totals_by_member(
    *, actor, year: int, region: Region | None = None
) -> QuerySet:
    """Hours and services per member in ``year`` (in the actor's scope), one query."""
    return (
        _service_records(actor, year, region)
        .values("registration__member_id", "registration__member__name")
        .annotate(hours=Sum("hours"), services=Count("pk"))
        .order_by("-hours", "registration__member_id")
    )


def service_totals_by_community(
    *, actor, year: int, region: Region | None = None
) -> QuerySet:
    """Hours, services and serving members per community in ``year``, one query."""
    return (
        _service_records(actor, year, region)
        .values("registration__community_id", "registration__community__name")
        .annotate(
            hours=Sum("hours"),
            services=Count("pk"),
            members=Count("registration__member", distinct=True),
        )
        .order_by("-hours", "registration__community_id")
    )


def wish_list(*, actor) -> QuerySet:
    return Wish.objects.visible_to(actor).select_related(
        "region", "community", "claimed_by"
    )


def stale_wishes(
    *, actor, now: dt.datetime | None = None, days: int | None = None
) -> QuerySet:
    """Unclaimed wishes posted more than N days ago (setting, default 7)."""
    return wish_list(actor=actor).filter(stale_wish_q(now=now, days=days))


def members_who_may_claim(*, actor, community: Region) -> QuerySet:
    """Active members the actor sees who may claim a wish of ``community``, in one
    query: the same rule as ``services.member_may_claim``."""
    from .models import Registration

    org_region_inside = subtree_q(community, "organisation__region")
    org_region_above = ancestors_or_self_q(community, "organisation__region")
    registered_here = Exists(
        Registration.objects.filter(
            member=OuterRef("pk"), community=community, is_active=True
        )
    )
    return (
        PartyMember.objects.visible_to(actor)
        .filter(is_active=True)
        .filter(
            (Q(organisation__is_active=True) & (org_region_inside | org_region_above))
            | registered_here
        )
        .order_by("name", "pk")
    )


def wishes_waiting_count(*, actor) -> int:
    """Open wishes in ``actor``'s area with a next step the actor's role may
    record: to be claimed or fulfilled (grid workers and staff), and fulfilments
    to confirm (staff). For the phone home."""
    from .choices import WishState
    from .permissions import can_confirm_wish, can_record_claim

    states = []
    if can_record_claim(actor):
        states += [WishState.POSTED, WishState.CLAIMED]
    if can_confirm_wish(actor):
        states.append(WishState.FULFILLED)
    if not states:
        return 0
    return Wish.objects.visible_to(actor).filter(state__in=states).count()
