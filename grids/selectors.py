"""Reads of the grids app, scoped to the actor: lists, details and subtree figures."""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from . import permissions
from .choices import GRID_LEVELS, RegionLevel, WorkerRole
from .models import (
    DataJob,
    GridAssignment,
    Household,
    Region,
    Resident,
    ResidentTag,
)
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
    """The resident, and whether the actor may show the whole ID-card number
    (``grids.services.personal_data_reveal``)."""
    resident = resident_list(actor=actor).filter(pk=resident_id).first()
    if resident is None:
        permissions.require_in_scope(actor, None)
    return resident, permissions.can_reveal_personal_data(actor)


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


def data_job_detail(*, actor, job_id: int) -> DataJob:
    """The actor's own import or export job (OutOfScope for another's)."""
    job = (
        DataJob.objects.visible_to(actor)
        .select_related("region")
        .filter(pk=job_id)
        .first()
    )
    if job is None:
        permissions.require_in_scope(actor, None)
    return job


def data_job_status(job: DataJob) -> dict:
    """What the progress page shows and polls: state and counters."""
    return {
        "id": job.pk,
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "finished": job.is_finished,
        "rows_total": job.rows_total,
        "rows_checked": job.rows_checked,
        "rows_written": job.rows_written,
        "error_count": job.error_count,
        "percent": (
            100
            if job.is_finished
            else int(100 * job.rows_checked / job.rows_total)
            if job.rows_total
            else 0
        ),
        "message": job.message,
    }


# --- The field pages (/m/): households, the building view, patrol places --------


def patrol_places(*, actor) -> QuerySet:
    """The active grids and buildings in the actor's area, in tree order: where a
    patrol or a visit is recorded."""
    return region_list(actor=actor, levels=GRID_LEVELS).filter(is_active=True)


def building_list(*, actor, grid=None) -> QuerySet:
    """Buildings in the actor's area (in ``grid`` if given) with their household
    counts, in one query."""
    qs = region_list(actor=actor, levels=(RegionLevel.BUILDING,)).filter(is_active=True)
    if grid is not None:
        qs = qs.filter(subtree_q(grid))
    return qs.annotate(household_total=Count("households"))


HOUSEHOLD_SEARCH_LIMIT = 30


def household_search(
    *, actor, building_id: int | None = None, room: str = "", name: str = ""
) -> list[Household]:
    """Households in the actor's area found by building and room ("3单元502") or
    by a resident's name (only for roles that see names), at most
    ``HOUSEHOLD_SEARCH_LIMIT``, each with its first resident's name
    (``head_name``), its number of people (``people``) and the tags the actor may
    see (``shown_tags``); two queries. Nothing is searched on personal data (ID
    numbers, phones)."""
    from .rooms import room_place, room_search_text

    room, name = (room or "").strip(), (name or "").strip()
    if name and not permissions.can_see_resident_names(actor):
        name = ""
    if not (building_id or room or name):
        return []
    qs = household_list(actor=actor)
    if building_id:
        qs = qs.filter(region_id=building_id)
    if room:
        qs = qs.filter(address__contains=room_search_text(room))
    active = Resident.objects.filter(household=OuterRef("pk"), is_active=True)
    if name:
        qs = qs.filter(Exists(active.filter(name__contains=name)))
    found = list(
        qs.annotate(
            head_name=Subquery(active.order_by("pk").values("name")[:1]),
            people=Subquery(
                active.order_by()
                .values("household")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            ),
        ).order_by("region_id", "address")[:HOUSEHOLD_SEARCH_LIMIT]
    )
    searched = room_search_text(room) if room else ""
    if searched.isdigit():
        # "502" also matches "1502": keep the exact room where the address has one.
        found = [
            h
            for h in found
            if (place := room_place(h.address)) is None or place.room == searched
        ]
    _attach_shown_tags(found, actor)
    return found


def _attach_shown_tags(households, user) -> list[ResidentTag]:
    """Set ``shown_tags`` on each household: the tags ``user`` may see that one of
    its active residents carries, in code order (one query for all of them).
    Returns the tags shown on any of them."""
    tags_of: dict[int, dict] = {}
    if households:
        rows = (
            Resident.tags.through.objects.filter(
                resident__household__in=[h.pk for h in households],
                resident__is_active=True,
            )
            .values_list(
                "resident__household_id",
                "residenttag_id",
                "residenttag__code",
                "residenttag__name",
                "residenttag__visible_to_roles",
            )
            .distinct()
        )
        seen: dict[int, ResidentTag] = {}
        for household_id, tag_id, code, name, roles in rows:
            tag = seen.setdefault(
                tag_id,
                ResidentTag(pk=tag_id, code=code, name=name, visible_to_roles=roles),
            )
            if tag.is_visible_to(user):
                tags_of.setdefault(household_id, {})[tag_id] = tag
    shown = {}
    for household in households:
        household.shown_tags = sorted(
            tags_of.get(household.pk, {}).values(), key=lambda t: t.code
        )
        shown.update({t.pk: t for t in household.shown_tags})
    return sorted(shown.values(), key=lambda t: t.code)


def household_card(*, actor, household_id: int) -> dict:
    """一户一档 for the phone: the household, its active residents with the tags
    the actor's role may see, and its last visits; in four queries whatever the
    household's size. Outside the actor's area it does not exist (OutOfScope)."""
    from .masking import age_band, mask_id_number, mask_name, mask_phone

    household = household_list(actor=actor).filter(pk=household_id).first()
    if household is None:
        permissions.require_in_scope(actor, None)
    residents = list(
        household.residents.filter(is_active=True)
        .prefetch_related("tags")
        .order_by("pk")
    )
    names = permissions.can_see_resident_names(actor)
    people = [
        {
            "name": r.name if names else mask_name(r.name),
            "relationship": r.get_relationship_display(),
            "residence_type": r.get_residence_type_display(),
            "age_band": age_band(r.birth_date),
            "id_number": mask_id_number(r.id_number),
            "phone": mask_phone(r.phone),
            "tags": sorted(
                (t for t in r.tags.all() if t.is_visible_to(actor)),
                key=lambda t: t.code,
            ),
        }
        for r in residents
    ]
    visits = list(household.patrols.order_by("-occurred_at")[:5])
    return {
        "household": household,
        "people": people,
        "visits": visits,
        "tags": sorted({t for p in people for t in p["tags"]}, key=lambda t: t.code),
    }


def building_plan(*, actor, building_id: int) -> dict:
    """电子装户图 (seed 002): a building as floors × units, each cell the
    households at that floor and unit with the special-group tags the actor may
    see. Floors and units are read from the addresses (``grids.rooms``); an
    address without a room number is listed apart. Three queries whatever the
    building's size."""
    from .rooms import room_place

    building = (
        region_list(actor=actor, levels=(RegionLevel.BUILDING,))
        .filter(pk=building_id)
        .first()
    )
    if building is None:
        permissions.require_in_scope(actor, None)
    households = list(
        Household.objects.filter(region=building)
        .order_by("address")
        .only("pk", "address", "region_id")
    )
    legend = _attach_shown_tags(households, actor)
    marks = {t.pk: index + 1 for index, t in enumerate(legend)}
    cells: dict[tuple[int, int], list] = {}
    unplaced = []
    for household in households:
        household.tag_marks = [marks[t.pk] for t in household.shown_tags]
        place = room_place(household.address)
        household.place = place
        if place is None:
            unplaced.append(household)
        else:
            cells.setdefault((place.floor, place.unit), []).append(household)
    # Every floor and unit up to the highest, so that an empty flat shows too.
    units = list(range(1, max((unit for _floor, unit in cells), default=0) + 1))
    floors = list(range(max((floor for floor, _unit in cells), default=0), 0, -1))
    rows = [
        {
            "floor": floor,
            "cells": [
                sorted(cells.get((floor, unit), []), key=lambda h: h.place.door)
                for unit in units
            ],
        }
        for floor in floors
    ]
    return {
        "building": building,
        "units": units,
        "rows": rows,
        "unplaced": unplaced,
        "legend": [(marks[t.pk], t) for t in legend],
        "household_count": len(households),
    }


def grid_worker_names(*, actor, grid) -> list[str]:
    """The names of the workers serving ``grid`` today (by role), for its
    poster; empty outside the actor's area."""
    return list(
        GridAssignment.objects.visible_to(actor)
        .current()
        .filter(grid=grid)
        .order_by("role", "worker__name")
        .values_list("worker__name", flat=True)
    )


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
