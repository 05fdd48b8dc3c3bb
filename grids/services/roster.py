"""The roster: grid workers (one person per phone) and their stints on grids."""

import copy
import datetime as dt
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import permissions
from ..cleaning import full_clean, validated_save
from ..errors import Conflict, DomainError
from ..history import record_bulk_history, records_actor
from ..models import GridAssignment, GridWorker, Region
from ..validators import normalize_phone, validate_mainland_phone
from ._common import lock_in_scope, progress_due, report_progress

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


class RosterRow(NamedTuple):
    """One row of a roster file (one stint), its grid already looked up."""

    number: int  # the row's number in the file (1 = the first data row)
    grid: Region | None
    role: str
    worker_name: str
    worker_phone: str
    is_party_member: bool | None = None  # None: keep what the roster says
    started_on: dt.date | None = None
    ended_on: dt.date | None = None


# Rows per statement of the whole-file import.
ROSTER_CHUNK_ROWS = 2000


def _chunked(items):
    items = list(items)
    for start in range(0, len(items), ROSTER_CHUNK_ROWS):
        yield items[start : start + ROSTER_CHUNK_ROWS]


@records_actor
def roster_import(
    *, actor, rows: list[RosterRow], progress=None
) -> list[tuple[int, str]]:
    """A whole roster file at once, each row as the row-by-row import does it
    with ``grid_worker_upsert`` (the person with the row's phone, created or
    renamed), ``assignment_start`` (unless the person already has an open stint
    on that grid in that role) and ``assignment_end`` (when the row has an end
    date): the same checks and messages — role, the grid in the actor's area, a
    phone that is malformed or belongs to a worker elsewhere "cannot be used",
    one open stint per person, grid and role, no end before the start, the
    models' validation. A later row of the file sees what the earlier rows did.

    Then the new and changed workers and stints are written a few statements
    per 2,000 rows, with their history rows. All or nothing: returns the
    refused rows as (number, message), in which case nothing was written; an
    empty list when every row was. Call it in a transaction (the job's).

    ``progress`` (optional): called with the refused rows so far every
    ``PROGRESS_EVERY`` rows checked, and the stints written (started or ended)
    after each chunk (``report_progress``)."""
    permissions.require(permissions.can_manage_roster(actor))
    workers, stored, visible, open_stints = _roster_as_stored(actor, rows)
    new_stints: list[GridAssignment] = []
    ended: list[GridAssignment] = []  # stored stints the file ends
    today = timezone.localdate()
    errors: list[tuple[int, str]] = []
    for index, row in enumerate(rows, 1):
        if progress_due(index):
            report_progress(progress, errors=len(errors))
        # Each step holds once it passes, as in the row-by-row import, whose
        # row keeps the worker it saved and the stint it started when the end
        # of the stint is refused (the rows after it see them).
        phone = normalize_phone(row.worker_phone)
        key = (phone, row.grid.pk if row.grid else None, row.role)
        canonical = workers.get(phone)
        try:
            worker = _worker_for_row(actor, row, phone, canonical, visible)
        except DomainError as exc:
            errors.append((row.number, str(exc.message)))
            continue
        if canonical is None:
            workers[phone] = canonical = worker
        else:
            canonical.name = worker.name
            canonical.is_party_member = worker.is_party_member
        try:
            stint = open_stints.get(key)
            if stint is None:
                permissions.require_in_scope(actor, row.grid)
                stint = GridAssignment(
                    worker=canonical,
                    grid=row.grid,
                    role=row.role,
                    started_on=row.started_on or today,
                )
                full_clean(
                    stint,
                    exclude=["worker", "grid"],
                    validate_unique=False,
                    validate_constraints=False,
                    conflict_message=STINT_EXISTS,
                )
                new_stints.append(stint)
                open_stints[key] = stint
            if row.ended_on:
                if row.ended_on < stint.started_on:
                    raise DomainError(_("A stint cannot end before it starts."))
                stint.ended_on = row.ended_on
                del open_stints[key]
                if stint.pk is not None:
                    ended.append(stint)
        except DomainError as exc:
            errors.append((row.number, str(exc.message)))
    if errors:
        return errors
    _roster_write(actor, workers, stored, new_stints, ended, progress)
    return []


def _roster_as_stored(actor, rows):
    """The workers with the file's phones (locked), by phone; copies of them as
    stored; the ids of those the actor may see; their open stints (locked) by
    (phone, grid id, role)."""
    phones = sorted({normalize_phone(row.worker_phone) for row in rows})
    workers, visible = {}, set()
    for chunk in _chunked(phones):
        workers.update(
            (worker.phone, worker)
            for worker in GridWorker.objects.filter(phone__in=chunk)
            .order_by("pk")
            .select_for_update()
        )
        visible.update(
            GridWorker.objects.visible_to(actor)
            .filter(phone__in=chunk)
            .values_list("pk", flat=True)
        )
    phone_of = {worker.pk: phone for phone, worker in workers.items()}
    open_stints = {}
    for chunk in _chunked(sorted(phone_of)):
        for stint in (
            GridAssignment.objects.filter(worker_id__in=chunk, ended_on__isnull=True)
            .order_by("pk")
            .select_for_update()
        ):
            open_stints[(phone_of[stint.worker_id], stint.grid_id, stint.role)] = stint
    stored = {phone: copy.copy(worker) for phone, worker in workers.items()}
    return workers, stored, visible, open_stints


def _worker_for_row(actor, row, phone, canonical, visible) -> GridWorker:
    """The worker ``grid_worker_upsert`` would save for ``row`` (validated, not
    saved): ``canonical`` (the stored one, or one an earlier row made) changed,
    or a new one."""
    if row.grid is None:
        raise DomainError(_("grid_code is required."))
    if not row.role:
        raise DomainError(_("role is required."))
    try:
        validate_mainland_phone(phone)
    except ValidationError:
        _refuse_phone(PHONE_UNUSABLE)
    if (
        canonical is not None
        and canonical.pk is not None
        and canonical.pk not in visible
    ):
        _refuse_phone(PHONE_UNUSABLE)
    if canonical is None:
        worker = GridWorker(
            phone=phone,
            is_party_member=bool(row.is_party_member),
            home_region=actor.region,
        )
    else:
        worker = copy.copy(canonical)
    worker.name = (row.worker_name or "").strip()
    if row.is_party_member is not None:
        worker.is_party_member = row.is_party_member
    # Its home area and login are not the file's (no query per row to check
    # that they exist); the phone of a stored worker is its key.
    full_clean(
        worker,
        exclude=["home_region", "user", *(["phone"] if canonical else [])],
        validate_unique=False,
        validate_constraints=False,
        conflict_message=PHONE_UNUSABLE,
    )
    return worker


def _roster_write(actor, workers, stored, new_stints, ended, progress) -> None:
    created = [w for w in workers.values() if w.pk is None]
    changed = [
        w
        for phone, w in workers.items()
        if w.pk is not None
        and (w.name, w.is_party_member)
        != (stored[phone].name, stored[phone].is_party_member)
    ]
    # Written by someone else since the reads above: the clash the row-by-row
    # services would have reported.
    try:
        with transaction.atomic():
            GridWorker.objects.bulk_create(created, batch_size=ROSTER_CHUNK_ROWS)
    except IntegrityError:
        raise Conflict(PHONE_UNUSABLE, code="phone_unusable") from None
    for chunk in _chunked(changed):
        GridWorker.objects.bulk_update(chunk, ["name", "is_party_member"])
    # The stored stints the file ends first: a later row may open the same
    # stint again (one open stint per worker, grid and role).
    written = 0
    for chunk in _chunked(ended):
        GridAssignment.objects.bulk_update(chunk, ["ended_on"])
        written += len(chunk)
        report_progress(progress, written=written)
    try:
        with transaction.atomic():
            for chunk in _chunked(new_stints):
                GridAssignment.objects.bulk_create(chunk)
                written += len(chunk)
                report_progress(progress, written=written)
    except IntegrityError:
        raise Conflict(STINT_EXISTS) from None
    GridWorker.history.bulk_history_create(created, default_user=actor)
    record_bulk_history(GridWorker, changed, actor=actor)
    GridAssignment.history.bulk_history_create(new_stints, default_user=actor)
    record_bulk_history(GridAssignment, ended, actor=actor)
