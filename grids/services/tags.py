"""Special-group tags (标签化管理): a shared list kept by street staff, each change
validated and written to the audit log."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import permissions
from ..audit import audit_record, diff, field_values
from ..choices import AuditAction
from ..cleaning import validated_save
from ..errors import Conflict
from ..models import ResidentTag
from ._common import refuse_unknown_fields

TAG_CODE_TAKEN = gettext_lazy("Another special-group tag already has this code.")
# What the audit log compares; ``is_active`` changes by deactivating (or
# switching a tag back on through ``resident_tag_update``).
TAG_FIELDS = ("code", "name", "description", "visible_to_roles", "is_active")


def _normalise(field, value):
    if field == "visible_to_roles":
        return sorted({str(role) for role in value or ()})
    if field in ("code", "name", "description"):
        return (value or "").strip()
    return value


def _save_and_audit(*, actor, tag: ResidentTag, before: dict, action: str):
    validated_save(
        tag,
        conflict_messages={"code": TAG_CODE_TAKEN},
        conflict_code="duplicate_tag",
    )
    changes = diff(before, field_values(tag, TAG_FIELDS))
    if changes:
        audit_record(actor=actor, instance=tag, action=action, changes=changes)
    return tag


def resident_tag_create(
    *,
    actor,
    code: str,
    name: str,
    description: str = "",
    visible_to_roles=(),
) -> ResidentTag:
    """A new tag; ``visible_to_roles`` empty means every role may see it."""
    permissions.require(permissions.can_keep_shared_lists(actor))
    fields = {
        "code": code,
        "name": name,
        "description": description,
        "visible_to_roles": visible_to_roles,
    }
    tag = ResidentTag(**{f: _normalise(f, v) for f, v in fields.items()})
    with transaction.atomic():
        return _save_and_audit(
            actor=actor, tag=tag, before={}, action=AuditAction.CREATE
        )


def _locked_tag(actor, tag_id: int) -> ResidentTag:
    tag = ResidentTag.objects.select_for_update().filter(pk=tag_id).first()
    if tag is None:
        permissions.require_in_scope(actor, None)  # "does not exist"
    return tag


def resident_tag_update(*, actor, tag_id: int, **changes) -> ResidentTag:
    """Change a tag's code, name, description or roles, or switch it back on."""
    refuse_unknown_fields(changes, TAG_FIELDS)
    permissions.require(permissions.can_keep_shared_lists(actor))
    if changes.get("is_active") is False:
        return resident_tag_deactivate(actor=actor, tag_id=tag_id, **changes)
    with transaction.atomic():
        tag = _locked_tag(actor, tag_id)
        before = field_values(tag, TAG_FIELDS)
        for field, value in changes.items():
            setattr(tag, field, _normalise(field, value))
        return _save_and_audit(
            actor=actor, tag=tag, before=before, action=AuditAction.UPDATE
        )


def resident_tag_deactivate(*, actor, tag_id: int, **changes) -> ResidentTag:
    """Switch a tag off: residents keep it, it is no longer offered for new ones.
    Other fields in ``changes`` change with it (one audit entry)."""
    refuse_unknown_fields(changes, TAG_FIELDS)
    permissions.require(permissions.can_keep_shared_lists(actor))
    with transaction.atomic():
        tag = _locked_tag(actor, tag_id)
        if not tag.is_active:
            raise Conflict(_("This special-group tag is already switched off."))
        before = field_values(tag, TAG_FIELDS)
        for field, value in changes.items():
            setattr(tag, field, _normalise(field, value))
        tag.is_active = False
        return _save_and_audit(
            actor=actor, tag=tag, before=before, action=AuditAction.DEACTIVATE
        )
