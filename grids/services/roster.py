"""The roster: grid workers (one person per phone) and their stints on grids."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import permissions
from ..cleaning import validated_save
from ..errors import Conflict, DomainError
from ..history import records_actor
from ..models import GridAssignment, GridWorker, Region
from ..validators import normalize_phone, validate_mainland_phone
from ._common import lock_in_scope

STINT_EXISTS = gettext_lazy("This worker already serves this grid in this role.")
PHONE_TAKEN = gettext_lazy("Another grid worker in your area has this phone number.")
# Said alike for a malformed number and for one that belongs to a worker outside
# the actor's area, so that the answer tells nothing about other areas.
PHONE_UNUSABLE = gettext_lazy(
    "This phone number cannot be used here. Check that it is a mainland number "
    "(11 digits starting with 1, or a landline with its area code); if it is "
    "right, ask your street office."
)


def grid_worker_phone_problem(*, actor, phone: str, worker_id=None):
    """Why ``phone`` cannot be the phone of a new worker (``worker_id=None``) or
    of worker ``worker_id``, or None. A worker in the actor's area who has it is
    named as such (on add, the roster keeps them: see ``grid_worker_upsert``);
    a malformed number and a worker elsewhere get the same neutral message."""
    phone = normalize_phone(phone)
    try:
        validate_mainland_phone(phone)
    except ValidationError:
        return PHONE_UNUSABLE
    owner = GridWorker.objects.filter(phone=phone).exclude(pk=worker_id).first()
    if owner is None:
        return None
    if not GridWorker.objects.visible_to(actor).filter(pk=owner.pk).exists():
        return PHONE_UNUSABLE
    return PHONE_TAKEN if worker_id is not None else None


def _refuse_phone(problem) -> None:
    if problem is not None:
        code = "phone_unusable" if problem is PHONE_UNUSABLE else "phone_taken"
        raise Conflict(problem, code=code)


@records_actor
def grid_worker_upsert(
    *,
    actor,
    name: str,
    phone: str,
    is_party_member: bool | None = None,
    user=None,
) -> GridWorker:
    """The roster person with this phone, created or updated (phones are unique).

    A new person's home area is the actor's scope: seen there (and wherever they
    later serve) only. An existing person is changed only by someone who may see
    them; to anyone else the phone "cannot be used", as a malformed one.
    ``is_party_member=None`` keeps the flag.
    """
    permissions.require(permissions.can_manage_roster(actor))
    phone = normalize_phone(phone)
    with transaction.atomic():
        worker = GridWorker.objects.select_for_update().filter(phone=phone).first()
        _refuse_phone(grid_worker_phone_problem(actor=actor, phone=phone))
        if worker is None:
            worker = GridWorker(
                phone=phone,
                is_party_member=bool(is_party_member),
                home_region=actor.region,
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
            conflict_message=PHONE_UNUSABLE,
        )
    return worker


@records_actor
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
    administrator) the actor may see (``GridWorker.objects.visible_to``)."""
    permissions.require(permissions.can_manage_roster(actor))
    with transaction.atomic():
        worker = GridWorker.objects.select_for_update().filter(pk=worker_id).first()
        if (
            worker is None
            or not GridWorker.objects.visible_to(actor).filter(pk=worker.pk).exists()
        ):
            permissions.require_in_scope(actor, None)
        phone = normalize_phone(phone)
        if phone != worker.phone:
            _refuse_phone(
                grid_worker_phone_problem(actor=actor, phone=phone, worker_id=worker.pk)
            )
        worker.name = (name or "").strip()
        worker.phone = phone
        worker.is_party_member = is_party_member
        if actor.is_superuser:
            worker.user = user
        validated_save(worker, conflict_message=PHONE_UNUSABLE)
    return worker


@records_actor
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
        # Only a worker the actor may see (home area or a stint in it).
        if not GridWorker.objects.visible_to(actor).filter(pk=worker.pk).exists():
            permissions.require_in_scope(actor, None)
        if GridAssignment.objects.filter(
            worker=worker, grid=grid, role=role, ended_on__isnull=True
        ).exists():
            raise Conflict(STINT_EXISTS)
        assignment = GridAssignment(
            worker=worker, grid=grid, role=role, started_on=started_on
        )
        validated_save(assignment, conflict_message=STINT_EXISTS)
    return assignment


@records_actor
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
