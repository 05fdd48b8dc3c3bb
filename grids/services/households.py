"""Households (一户一档) and their residents, with the special-group tags the
actor's role may see."""

from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import permissions
from ..cleaning import full_clean, validated_save
from ..errors import Conflict, DomainError
from ..history import record_bulk_history, records_actor
from ..models import Household, Region, Resident
from ..validators import (
    birth_date_from_id,
    gender_from_id,
    normalize_id_number,
    normalize_phone,
)
from ._common import (
    lock_in_scope,
    progress_due,
    refuse_unknown_fields,
    report_progress,
)

HOUSEHOLD_EXISTS = gettext_lazy(
    "A household at this address already exists in this grid."
)
RESIDENT_EXISTS = gettext_lazy(
    "A resident with this ID-card number is already registered."
)

HOUSEHOLD_EDITABLE_FIELDS = ("region", "address", "household_number", "notes")
# What an update may change besides the tags (which keep the hidden ones).
RESIDENT_EDITABLE_FIELDS = (
    "name",
    "id_number",
    "phone",
    "relationship",
    "residence_type",
    "is_active",
    "household",
)


@records_actor
def household_create(
    *, actor, region: Region, address: str, household_number: str = "", notes: str = ""
) -> Household:
    permissions.require(permissions.can_manage_households(actor))
    permissions.require_in_scope(actor, region)
    household = Household(
        region=region,
        address=(address or "").strip(),
        household_number=(household_number or "").strip(),
        notes=notes or "",
    )
    return validated_save(household, conflict_message=HOUSEHOLD_EXISTS)


class HouseholdRow(NamedTuple):
    """One row of a households file, its region already looked up."""

    number: int  # the row's number in the file (1 = the first data row)
    region: Region | None
    address: str
    household_number: str = ""
    notes: str = ""


HOUSEHOLDS_CHUNK_ROWS = 2000


@records_actor
def households_import(
    *, actor, rows: list[HouseholdRow], progress=None
) -> list[tuple[int, str]]:
    """A whole households file (一户一档) at once: every row checked by the rules
    of ``household_create`` (role, scope, the model's validation), a row whose
    grid already has a household at its address updating that household's
    number and notes (as ``household_update``; a later row of the file updates
    an earlier one), then the new households in one INSERT, the changed ones in
    one UPDATE, and their history rows in one INSERT each. All or nothing:
    returns the refused rows as (number, message), in which case nothing was
    written; an empty list when every row was. Call it in a transaction (the
    job's). ~18,000 rows: a few statements instead of ~8 per row.

    ``progress`` (optional): called with the refused rows so far every
    ``PROGRESS_EVERY`` rows checked, and the households written after each
    chunk (``report_progress``)."""
    permissions.require(permissions.can_manage_households(actor))
    errors: list[tuple[int, str]] = []
    wanted: dict[tuple[int, str], Household] = {}  # (region id, address) -> row
    for index, row in enumerate(rows, 1):
        if progress_due(index):
            report_progress(progress, errors=len(errors))
        try:
            if row.region is None:
                raise DomainError(_("region_code is required."))
            permissions.require_in_scope(actor, row.region)
            household = Household(
                region=row.region,
                address=(row.address or "").strip(),
                household_number=(row.household_number or "").strip(),
                notes=row.notes or "",
            )
            # The uniqueness of (grid, address) is the merge below, not a clash.
            # (The region was looked up: no query per row to check it exists.)
            full_clean(
                household,
                exclude=["region"],
                validate_unique=False,
                validate_constraints=False,
            )
        except DomainError as exc:
            errors.append((row.number, str(exc.message)))
            continue
        wanted[(row.region.pk, household.address)] = household
    if errors or not wanted:
        return errors
    existing = {
        (h.region_id, h.address): h
        for h in Household.objects.filter(
            region_id__in={region_id for region_id, _address in wanted},
            address__in={address for _region_id, address in wanted},
        )
        .order_by("pk")
        .select_for_update()
    }
    created, changed = [], []
    for key, household in wanted.items():
        found = existing.get(key)
        if found is None:
            created.append(household)
        elif (found.household_number, found.notes) != (
            household.household_number,
            household.notes,
        ):
            found.household_number = household.household_number
            found.notes = household.notes
            changed.append(found)
    written = 0
    try:
        with transaction.atomic():
            for start in range(0, len(created), HOUSEHOLDS_CHUNK_ROWS):
                chunk = created[start : start + HOUSEHOLDS_CHUNK_ROWS]
                Household.objects.bulk_create(chunk)
                written += len(chunk)
                report_progress(progress, written=written)
    except IntegrityError:
        # Written by someone else since the read above.
        raise Conflict(HOUSEHOLD_EXISTS) from None
    if changed:
        now = timezone.now()
        for household in changed:
            household.updated_at = now
        for start in range(0, len(changed), HOUSEHOLDS_CHUNK_ROWS):
            chunk = changed[start : start + HOUSEHOLDS_CHUNK_ROWS]
            Household.objects.bulk_update(
                chunk, ["household_number", "notes", "updated_at"]
            )
            written += len(chunk)
            report_progress(progress, written=written)
    Household.history.bulk_history_create(created, default_user=actor)
    record_bulk_history(Household, changed, actor=actor)
    return []


@records_actor
def household_update(*, actor, household_id: int, **changes) -> Household:
    refuse_unknown_fields(changes, HOUSEHOLD_EDITABLE_FIELDS)
    permissions.require(permissions.can_manage_households(actor))
    with transaction.atomic():
        household = lock_in_scope(
            Household.objects.select_related("region"),
            household_id,
            actor=actor,
            region_of=lambda h: h.region,
        )
        if "region" in changes:
            permissions.require_in_scope(actor, changes["region"])
        for field, value in changes.items():
            setattr(household, field, value)
        validated_save(household, conflict_message=HOUSEHOLD_EXISTS)
    return household


@records_actor
def resident_create(
    *,
    actor,
    household: Household,
    name: str,
    id_number: str,
    phone: str = "",
    relationship: str = "head",
    residence_type: str = "registered",
    tags=(),
) -> Resident:
    permissions.require(permissions.can_manage_households(actor))
    permissions.require_in_scope(actor, household.region)
    resident = Resident(household=household)
    return _resident_save(
        resident,
        actor=actor,
        name=name,
        id_number=id_number,
        phone=phone,
        relationship=relationship,
        residence_type=residence_type,
        tags=tags,
    )


@records_actor
def resident_update(*, actor, resident_id: int, **changes) -> Resident:
    refuse_unknown_fields(changes, (*RESIDENT_EDITABLE_FIELDS, "tags"))
    permissions.require(permissions.can_manage_households(actor))
    with transaction.atomic():
        resident = lock_in_scope(
            Resident.objects.select_related("household__region"),
            resident_id,
            actor=actor,
            region_of=lambda r: r.household.region,
        )
        if "household" in changes:
            permissions.require_in_scope(actor, changes["household"].region)
        tags = changes.pop("tags", None)
        counted_before = _counted_in(resident)
        for field in RESIDENT_EDITABLE_FIELDS:
            changes.setdefault(field, getattr(resident, field))
        return _resident_save(
            resident, actor=actor, tags=tags, counted_before=counted_before, **changes
        )


def _counted_in(resident: Resident):
    """The household whose ``resident_count`` includes this resident, or None."""
    return resident.household_id if resident.pk and resident.is_active else None


def _shift_resident_count(before, after) -> None:
    """Move one unit of ``Household.resident_count`` from household ``before`` to
    household ``after`` (either may be None), in the caller's transaction. The
    rows are updated in id order so that two opposite moves cannot deadlock."""
    if before == after:
        return
    deltas = {pk: d for pk, d in ((before, -1), (after, 1)) if pk is not None}
    for pk in sorted(deltas):
        Household.objects.filter(pk=pk).update(
            resident_count=F("resident_count") + deltas[pk]
        )


def resident_set_fields(resident: Resident, **fields) -> Resident:
    """Put ``fields`` on ``resident`` as every write of a resident does: the ID
    number and phone normalised, the name trimmed, the birth date and gender
    read from an 18-character ID number (a bad one is left to validation).
    Saves nothing; shared by ``resident_create``/``resident_update`` and the
    whole-file import (``residents_import``)."""
    id_number = normalize_id_number(fields.pop("id_number"))
    resident.id_number = id_number
    resident.phone = normalize_phone(fields.pop("phone", "") or "")
    resident.name = (fields.pop("name") or "").strip()
    for field, value in fields.items():
        setattr(resident, field, value)
    if len(id_number) == 18:
        try:
            resident.birth_date = birth_date_from_id(id_number)
            resident.gender = gender_from_id(id_number)
        except ValueError:
            pass  # full_clean reports the bad number with its reason
    return resident


def _resident_save(
    resident: Resident, *, actor, tags=None, counted_before=None, **fields
) -> Resident:
    resident_set_fields(resident, **fields)
    with transaction.atomic():
        validated_save(resident, conflict_message=RESIDENT_EXISTS)
        _shift_resident_count(counted_before, _counted_in(resident))
        if tags is not None:
            visible = [t for t in tags if t.is_visible_to(actor)]
            hidden_kept = (
                [t for t in resident.tags.all() if not t.is_visible_to(actor)]
                if resident.pk
                else []
            )
            resident.tags.set(visible + hidden_kept)
    return resident


def household_resident_counts_refresh(*, household_ids=None) -> int:
    """Recompute ``Household.resident_count`` from the residents (repair, and
    after bulk inserts that bypass the services): one UPDATE, set-based, only the
    rows whose stored count is wrong. ``household_ids`` limits it to those
    households. Idempotent. Returns the number of households corrected."""
    active = (
        Resident.objects.filter(household=OuterRef("pk"), is_active=True)
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")
    )
    households = Household.objects.annotate(actual=Coalesce(Subquery(active), 0))
    if household_ids is not None:
        households = households.filter(pk__in=household_ids)
    wrong = households.exclude(resident_count=F("actual")).values("pk")
    with transaction.atomic():
        return Household.objects.filter(pk__in=wrong).update(
            resident_count=Coalesce(Subquery(active), 0)
        )
