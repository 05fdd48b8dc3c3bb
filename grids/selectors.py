"""Reads of the grids app, scoped to the actor: lists, details and subtree figures."""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from . import permissions
from .choices import GRID_LEVELS, RegionLevel, WorkerRole
from .models import GridAssignment, Household, Region, Resident, ResidentTag
from .querysets import subtree_q


def active_full_time_exists(on=None) -> Exists:
    """A condition on Region rows: an active full-time worker serves it."""
    return Exists(
        GridAssignment.objects.current(on).filter(
            grid=OuterRef("pk"), role=WorkerRole.FULL_TIME
        )
    )


def region_list(*, actor, levels=None, search: str = "") -> QuerySet:
    """The regions the actor may see, in tree order, in one query."""
    qs = Region.objects.visible_to(actor)
    if levels:
        qs = qs.filter(level__in=levels)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(code__startswith=search))
    return qs.order_by("tree_id", "lft")


def grid_list(*, actor) -> QuerySet:
    """Grids and micro-grids in scope, each with its active-worker flag (household
    and population counts are the nightly ``households_count`` / ``population_count``)."""
    return region_list(actor=actor, levels=GRID_LEVELS).annotate(
        has_full_time_worker=active_full_time_exists(),
    )


def grids_without_full_time_worker(*, actor) -> QuerySet:
    """Grids (not buildings) in scope that no active full-time worker serves."""
    return region_list(actor=actor, levels=(RegionLevel.GRID,)).exclude(
        active_full_time_exists()
    )


def subtree_worker_figures(*, region) -> dict:
    """Roster figures for a subtree in one query: the share of full-time workers
    (seed 000: 83%) and of grid heads who are party members (seed 003: 90%)."""
    current = GridAssignment.objects.current().filter(subtree_q(region, "grid"))
    figures = current.aggregate(
        # grid workers proper: heads (often cadres) and micro-grid volunteers apart
        workers=Count(
            "worker",
            filter=Q(role__in=(WorkerRole.FULL_TIME, WorkerRole.PART_TIME)),
            distinct=True,
        ),
        full_time=Count("worker", filter=Q(role=WorkerRole.FULL_TIME), distinct=True),
        heads=Count("worker", filter=Q(role=WorkerRole.HEAD), distinct=True),
        party_heads=Count(
            "worker",
            filter=Q(role=WorkerRole.HEAD, worker__is_party_member=True),
            distinct=True,
        ),
    )
    figures["full_time_share"] = (
        figures["full_time"] / figures["workers"] if figures["workers"] else None
    )
    figures["party_head_share"] = (
        figures["party_heads"] / figures["heads"] if figures["heads"] else None
    )
    return figures


def worker_serves_in_scope(*, actor, worker) -> bool:
    """Whether any stint of ``worker`` (current or past) lies in the actor's area."""
    return GridAssignment.objects.visible_to(actor).filter(worker=worker).exists()


def household_list(*, actor) -> QuerySet:
    return Household.objects.visible_to(actor).select_related("region")


def resident_list(*, actor) -> QuerySet:
    return Resident.objects.visible_to(actor).select_related("household__region")


def resident_detail(*, actor, resident_id: int) -> tuple[Resident, bool]:
    """The resident, and whether the actor may see the whole ID-card number."""
    resident = resident_list(actor=actor).filter(pk=resident_id).first()
    if resident is None:
        permissions.require_in_scope(actor, None)
    return resident, permissions.can_see_full_id_number(actor)


def visible_tag_queryset(user) -> QuerySet:
    """Special-group tags this user's role may see (empty list: every role)."""
    qs = ResidentTag.objects.all()
    if user.is_superuser:
        return qs
    ids = [t.pk for t in qs if t.is_visible_to(user)]
    return ResidentTag.objects.filter(pk__in=ids)


def tag_choices(user, resident=None) -> QuerySet:
    """The tags a user may put on ``resident``: the visible, active ones, and the
    switched-off ones it already has (so that saving does not drop them)."""
    in_use = Q(residents=resident) if resident is not None and resident.pk else Q()
    condition = Q(is_active=True) | in_use if in_use else Q(is_active=True)
    return visible_tag_queryset(user).filter(condition).distinct()


def patrolled_today(*, actor) -> bool:
    """Whether ``actor`` recorded a daily patrol (日巡查) today (local date)."""
    import datetime as dt

    from django.utils import timezone

    from .choices import PatrolKind
    from .models import Patrol

    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time()))
    return Patrol.objects.filter(
        worker=actor, kind=PatrolKind.PATROL, occurred_at__gte=start
    ).exists()
