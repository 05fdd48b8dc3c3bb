"""A whole residents file at once (居民信息导入): every row checked by the rules of
``resident_create`` / ``resident_update`` (and of ``household_create`` for a
household the file names first), then a few set-based statements per 2,000 rows
instead of a dozen statements per row."""

import copy
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .. import permissions
from ..choices import Relationship, ResidenceType
from ..cleaning import full_clean
from ..errors import Conflict, DomainError
from ..history import record_bulk_history, records_actor
from ..models import Household, Region, Resident
from ..pii import blind_index
from ..querysets import scope_q
from ._common import progress_due, report_progress
from .households import (
    HOUSEHOLD_EXISTS,
    RESIDENT_EXISTS,
    household_resident_counts_refresh,
    resident_set_fields,
)

# Rows per statement: the lookups by ID-number hash or by address, the
# INSERTs and the UPDATEs.
CHUNK_ROWS = 2000

# What an imported row sets on a resident, besides the household.
IMPORTED_FIELDS = ("name", "id_number", "phone", "relationship", "residence_type")
# The columns a changed resident is written back with (the hash and the values
# read from the ID number follow the number).
_UPDATED_COLUMNS = (
    "household",
    "name",
    "id_number",
    "id_number_hash",
    "phone",
    "relationship",
    "residence_type",
    "birth_date",
    "gender",
)


class ResidentRow(NamedTuple):
    """One row of a residents file, its region already looked up. A value of
    None: the file has no such column (a new resident gets the default, an
    existing one keeps what it has), as in the row-by-row import."""

    number: int  # the row's number in the file (1 = the first data row)
    region: Region | None
    address: str
    id_number: str
    name: str | None = None
    phone: str | None = None
    relationship: str | None = None
    residence_type: str | None = None


def _chunks(items, size=CHUNK_ROWS):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing_residents(actor, hashes):
    """(the actor's residents with these ID-number hashes, locked, by hash; the
    hashes held by residents outside the actor's area)."""
    in_scope, elsewhere = {}, set()
    visible = scope_q(actor, "household__region")
    for chunk in _chunks(sorted(hashes)):
        for resident in (
            Resident.objects.filter(visible, id_number_hash__in=chunk)
            .order_by("pk")
            .select_for_update(of=("self",))
        ):
            in_scope[resident.id_number_hash] = resident
        elsewhere.update(
            Resident.objects.filter(id_number_hash__in=chunk)
            .exclude(visible)
            .values_list("id_number_hash", flat=True)
        )
    return in_scope, elsewhere


def _existing_households(keys):
    """The households at these (region id, address) keys, by key, locked (a
    resident is added to them, their count changes)."""
    found = {}
    for chunk in _chunks(sorted(keys)):
        households = (
            Household.objects.filter(
                region_id__in={region_id for region_id, _address in chunk},
                address__in={address for _region_id, address in chunk},
            )
            .order_by("pk")
            .select_for_update()
        )
        for household in households:
            key = (household.region_id, household.address)
            if key in keys:
                found[key] = household
    return found


def _new_household(region, address):
    """A household ``household_create`` would make at this address, validated
    (not saved); a DomainError with its message when it would refuse it."""
    household = Household(region=region, address=address)
    # The region was looked up (no query per row to check it exists); the
    # address is free (it was looked for).
    full_clean(
        household, exclude=["region"], validate_unique=False, validate_constraints=False
    )
    return household


def _resident_values(row: ResidentRow, base: Resident) -> dict:
    """The fields the row-by-row import passes to the services for ``row``."""

    def given(field):
        value = getattr(row, field)
        return getattr(base, field) if value is None else value

    return {
        "name": given("name"),
        "id_number": row.id_number,
        "phone": given("phone") or "",
        "relationship": given("relationship") or Relationship.HEAD,
        "residence_type": given("residence_type") or ResidenceType.REGISTERED,
    }


def _changed(before: Resident, after: Resident) -> bool:
    return any(
        getattr(before, f.attname) != getattr(after, f.attname)
        for f in (Resident._meta.get_field(name) for name in _UPDATED_COLUMNS)
    )


@records_actor
def residents_import(
    *, actor, rows: list[ResidentRow], progress=None
) -> list[tuple[int, str]]:
    """A whole residents file: each row is the resident with its ID-card number
    (found through the number's keyed hash) in the household at its region and
    address, created when missing, exactly as the row-by-row import does with
    ``household_create``, ``resident_create`` and ``resident_update`` — the
    same checks and messages: role, scope (the region in the actor's area, a
    number held by a resident elsewhere "already registered"), the model's
    validation of the household and the resident. A number that appears again
    later in the file updates the resident of the earlier row, as row by row.

    Then the new households, the new residents and the changed ones are
    written in one statement per 2,000 rows each, with their history rows
    (without personal data: the history tables have no such column), and
    ``Household.resident_count`` is recomputed once for the households that
    gained or lost a resident. The regions' counts are the nightly
    ``region_counts_refresh``'s, as for every write of a resident.

    All or nothing: returns the refused rows as (number, message), in which case
    nothing was written; an empty list when every row was. Call it in a
    transaction (the job's).

    ``progress`` (optional): called with the refused rows so far every
    ``PROGRESS_EVERY`` rows checked, and the residents written after each
    chunk (``report_progress``)."""
    permissions.require(permissions.can_manage_households(actor))
    errors: list[tuple[int, str]] = []
    checked: list[tuple[ResidentRow, str]] = []  # (row, its hash)
    for row in rows:
        try:
            if row.region is None or not row.address:
                raise DomainError(_("region_code and address are required."))
            permissions.require_in_scope(actor, row.region)
        except DomainError as exc:
            errors.append((row.number, str(exc.message)))
            continue
        checked.append((row, blind_index(row.id_number)))
    keys = {(row.region.pk, row.address.strip()) for row, _hash in checked}
    households = _existing_households(keys)
    in_scope, elsewhere = _existing_residents(actor, {h for _r, h in checked if h})

    new_households: dict[tuple, Household] = {}
    refused_households: dict[tuple, str] = {}
    originals: dict[str, Resident] = {}  # hash -> the stored resident, unchanged
    current: dict[str, Resident] = {}  # hash -> the resident after the rows so far
    for index, (row, digest) in enumerate(checked, 1):
        if progress_due(index):
            report_progress(progress, errors=len(errors))
        key = (row.region.pk, row.address.strip())
        try:
            household = households.get(key) or new_households.get(key)
            if household is None:
                if key in refused_households:
                    raise DomainError(refused_households[key])
                try:
                    household = new_households[key] = _new_household(row.region, key[1])
                except DomainError as exc:
                    refused_households[key] = exc.message
                    raise
            base = current.get(digest) if digest else None
            if base is None and digest in in_scope:
                base = originals[digest] = in_scope[digest]
            resident = copy.copy(base) if base is not None else Resident()
            resident.household = household
            resident_set_fields(resident, **_resident_values(row, resident))
            if digest and digest in elsewhere:
                raise Conflict(RESIDENT_EXISTS)
            # Uniqueness: the stored numbers were looked up above, and a
            # number repeated in the file is the same resident.
            full_clean(
                resident,
                exclude=["household"],
                validate_unique=False,
                validate_constraints=False,
            )
        except DomainError as exc:
            errors.append((row.number, str(exc.message)))
            continue
        current[resident.id_number_hash] = resident
    if errors:
        return sorted(errors, key=lambda error: error[0])
    _write(
        actor,
        new_households.values(),
        originals,
        current,
        {h.pk for h in households.values()},
        progress,
    )
    return []


def _write(
    actor, new_households, originals, current, locked_households, progress
) -> None:
    new_households = list(new_households)
    created = [r for r in current.values() if r.pk is None]
    changed = [
        r
        for digest, r in current.items()
        if r.pk is not None and _changed(originals[digest], r)
    ]
    # Written by someone else since the reads above: the clash the row-by-row
    # services would have reported.
    try:
        with transaction.atomic():
            Household.objects.bulk_create(new_households, batch_size=CHUNK_ROWS)
    except IntegrityError:
        raise Conflict(HOUSEHOLD_EXISTS) from None
    written = 0
    try:
        with transaction.atomic():
            for chunk in _chunks(created):
                Resident.objects.bulk_create(chunk)
                written += len(chunk)
                report_progress(progress, written=written)
    except IntegrityError:
        raise Conflict(RESIDENT_EXISTS) from None
    for chunk in _chunks(changed):
        Resident.objects.bulk_update(chunk, list(_UPDATED_COLUMNS))
        written += len(chunk)
        report_progress(progress, written=written)
    Household.history.bulk_history_create(new_households, default_user=actor)
    Resident.history.bulk_history_create(created, default_user=actor)
    record_bulk_history(Resident, changed, actor=actor)
    # The households whose active residents changed: those of the new
    # residents, and the old and new ones of a moved active resident.
    touched = {r.household_id for r in created if r.is_active}
    for r in changed:
        before = originals[r.id_number_hash]
        if r.is_active and before.household_id != r.household_id:
            touched.update((before.household_id, r.household_id))
    unlocked = sorted(touched - locked_households - {h.pk for h in new_households})
    for chunk in _chunks(unlocked):
        # The households moved residents leave, locked in id order.
        list(
            Household.objects.filter(pk__in=chunk)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", flat=True)
        )
    for chunk in _chunks(sorted(touched)):
        household_resident_counts_refresh(household_ids=chunk)
