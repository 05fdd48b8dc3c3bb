"""The roster: grid workers (one person per phone) and their stints on grids."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import permissions
from ..cleaning import validated_save
from ..errors import Conflict, DomainError
from ..models import GridAssignment, GridWorker, Region
from ..selectors import worker_serves_in_scope
from ..validators import normalize_phone
from ._common import lock_in_scope

STINT_EXISTS = gettext_lazy("This worker already serves this grid in this role.")
PHONE_TAKEN = gettext_lazy("Another grid worker has this phone number.")


def grid_worker_upsert(
    *,
    actor,
    name: str,
    phone: str,
    is_party_member: bool | None = None,
    user=None,
) -> GridWorker:
    """The roster person with this phone, created or updated (phones are unique).

    An existing person is changed only by someone whose scope holds one of their
    stints, or who may see every grid; ``is_party_member=None`` keeps the flag.
    """
    permissions.require(permissions.can_manage_roster(actor))
    phone = normalize_phone(phone)
    with transaction.atomic():
        worker = GridWorker.objects.select_for_update().filter(phone=phone).first()
        if worker is None:
            worker = GridWorker(phone=phone, is_party_member=bool(is_party_member))
        elif not actor.is_superuser and not worker_serves_in_scope(
            actor=actor, worker=worker
        ):
            raise Conflict(
                _(
                    "This phone number belongs to a grid worker outside your area; "
                    "ask their street or community to change them."
                ),
                code="worker_elsewhere",
            )
        worker.name = (name or "").strip()
        if is_party_member is not None:
            worker.is_party_member = is_party_member
        if user is not None:
            if not actor.is_superuser and not actor.can_see_region(user.region):
                permissions.require_in_scope(actor, None)
            worker.user = user
        validated_save(
            worker,
            exclude=["phone"] if worker.pk else None,
            conflict_message=PHONE_TAKEN,
        )
    return worker


def grid_worker_update(
    *,
    actor,
    worker_id: int,
    name: str,
    phone: str,
    is_party_member: bool,
    user=None,
) -> GridWorker:
    """Change a roster person (name, phone, party flag; the login link only by an
    administrator). Their stints must lie in the actor's scope, or they have none."""
    permissions.require(permissions.can_manage_roster(actor))
    with transaction.atomic():
        worker = GridWorker.objects.select_for_update().filter(pk=worker_id).first()
        if worker is None or (
            not actor.is_superuser
            and GridAssignment.objects.filter(worker=worker).exists()
            and not worker_serves_in_scope(actor=actor, worker=worker)
        ):
            permissions.require_in_scope(actor, None)
        worker.name = (name or "").strip()
        worker.phone = normalize_phone(phone)
        worker.is_party_member = is_party_member
        if actor.is_superuser:
            worker.user = user
        validated_save(worker, conflict_message=PHONE_TAKEN)
    return worker


def assignment_start(
    *,
    actor,
    worker: GridWorker,
    grid: Region,
    role: str,
    started_on: dt.date | None = None,
) -> GridAssignment:
    permissions.require(permissions.can_manage_roster(actor))
    permissions.require_in_scope(actor, grid)
    started_on = started_on or timezone.localdate()
    with transaction.atomic():
        GridWorker.objects.select_for_update().filter(pk=worker.pk).first()
        if GridAssignment.objects.filter(
            worker=worker, grid=grid, role=role, ended_on__isnull=True
        ).exists():
            raise Conflict(STINT_EXISTS)
        assignment = GridAssignment(
            worker=worker, grid=grid, role=role, started_on=started_on
        )
        validated_save(assignment, conflict_message=STINT_EXISTS)
    return assignment


def assignment_end(
    *, actor, assignment_id: int, ended_on: dt.date | None = None
) -> GridAssignment:
    """End a stint; the row stays, so the roster keeps its history."""
    permissions.require(permissions.can_manage_roster(actor))
    ended_on = ended_on or timezone.localdate()
    with transaction.atomic():
        assignment = lock_in_scope(
            GridAssignment.objects.select_related("grid"),
            assignment_id,
            actor=actor,
            region_of=lambda a: a.grid,
        )
        if assignment.ended_on is not None:
            raise Conflict(_("This stint has already ended."))
        if ended_on < assignment.started_on:
            raise DomainError(_("A stint cannot end before it starts."))
        assignment.ended_on = ended_on
        assignment.save(update_fields=["ended_on"])
    return assignment
