"""Looks at personal data (个人信息访问): showing a resident's whole ID-card
number or phone, and exports that contain personal data. Each is allowed by
``grids.permissions.can_reveal_personal_data``, needs a reason, and writes one
row of the append-only access log ``PersonalDataAccess``.

Exports call ``personal_data_export`` whatever starts them (the admin, a
background job): it refuses an unmasked export to a role that may not reveal or
without a reason, and a large one (more rows than ``PII_EXPORT_REASON_ROWS``)
without a reason even masked; it builds the file, then logs it.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext as _

from .. import permissions
from ..choices import PersonalDataAccessKind
from ..errors import DomainError
from ..masking import mask_id_number, mask_phone
from ..models import PersonalDataAccess, Resident

# The fields of a resident that can be shown whole, with their masks.
REVEALABLE_FIELDS = {"id_number": mask_id_number, "phone": mask_phone}


def _reason(reason) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            _("Give the reason for looking at this personal data."),
            code="reason_required",
        )
    return reason


def personal_data_reveal(*, actor, resident_id: int, fields, reason: str) -> dict:
    """The whole values of ``fields`` (of ``REVEALABLE_FIELDS``) of one resident
    in the actor's area, logged with the reason. Outside the area: ``OutOfScope``
    (as if it did not exist); a role that may not: ``NotAllowed``."""
    fields = list(dict.fromkeys(fields or ()))
    unknown = [f for f in fields if f not in REVEALABLE_FIELDS]
    if unknown or not fields:
        raise DomainError(_("Choose what to show: the ID-card number or the phone."))
    resident = (
        Resident.objects.visible_to(actor)
        .select_related("household__region")
        .filter(pk=resident_id)
        .first()
    )
    if resident is None:
        permissions.require_in_scope(actor, None)
    permissions.require(permissions.can_reveal_personal_data(actor))
    reason = _reason(reason)
    PersonalDataAccess.objects.create(
        actor=actor,
        kind=PersonalDataAccessKind.REVEAL,
        content_type=ContentType.objects.get_for_model(Resident),
        object_id=str(resident.pk),
        object_repr=str(resident)[:200],
        region=resident.household.region,
        fields=fields,
        unmasked=True,
        reason=reason,
    )
    return {field: getattr(resident, field) for field in fields}


def export_needs_reason(*, row_count: int, unmasked: bool) -> bool:
    """Whether an export of personal data must give a reason."""
    return unmasked or row_count > settings.PII_EXPORT_REASON_ROWS


def personal_data_export_check(
    *, actor, row_count: int, unmasked: bool, reason: str
) -> bool:
    """Refuse an export of personal data the actor may not make: unmasked by a
    role that may not reveal, or without the reason it needs. Returns whether
    the export needs a reason (and so a line in the access log)."""
    permissions.require(permissions.can_view(actor))
    if unmasked:
        permissions.require(
            permissions.can_reveal_personal_data(actor),
            _("Your role may export personal data only masked."),
        )
    needs_reason = export_needs_reason(row_count=row_count, unmasked=unmasked)
    if needs_reason and not (reason or "").strip():
        raise DomainError(
            _(
                "Give the reason for this export: it is unmasked, or has more "
                "than %(rows)d rows of personal data."
            )
            % {"rows": settings.PII_EXPORT_REASON_ROWS},
            code="reason_required",
        )
    return needs_reason


def personal_data_export(
    *,
    actor,
    model,
    row_count: int,
    fields,
    unmasked: bool,
    reason: str,
    build: Callable,
):
    """Check, build and log an export of ``row_count`` rows of ``model`` whose
    columns ``fields`` are personal data (masked unless ``unmasked``). Returns what
    ``build()`` returns. The log row is written only once the file is built."""
    needs_reason = personal_data_export_check(
        actor=actor, row_count=row_count, unmasked=unmasked, reason=reason
    )
    data = build()
    if needs_reason:
        with transaction.atomic():
            PersonalDataAccess.objects.create(
                actor=actor,
                kind=PersonalDataAccessKind.EXPORT,
                content_type=ContentType.objects.get_for_model(model),
                object_repr=str(model._meta.verbose_name_plural)[:200],
                region=getattr(actor, "region", None),
                fields=list(fields),
                unmasked=unmasked,
                row_count=row_count,
                reason=reason.strip(),
            )
    return data
