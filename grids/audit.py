"""The audit log of reference data (departments, categories, points rules, tags…):
one entry per change, written by the service that made it, inside its transaction.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder

from .choices import AuditAction
from .models import AuditEntry, Region


def _plain(value):
    """A JSON-safe value for the log: model instances by pk, others as JSON would."""
    if hasattr(value, "_meta") and hasattr(value, "pk"):
        return value.pk
    return DjangoJSONEncoder().default(value) if not _is_json(value) else value


def _is_json(value) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)


def field_values(instance, fields) -> dict:
    """The current values of ``fields`` (FKs by id), to diff against later."""
    out = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = getattr(field, "attname", name)
        out[name] = _plain(getattr(instance, attname))
    return out


def diff(before: dict, after: dict) -> dict:
    """``{field: [old, new]}`` for every field whose value changed."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


# The fields that place a record in an area, in the order they are looked for.
AREA_FIELDS = ("region", "community")


def region_of(instance):
    """The id of the Region node ``instance`` belongs to, or None (shared)."""
    if isinstance(instance, Region):
        return instance.pk
    for name in AREA_FIELDS:
        try:
            field = instance._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if getattr(field, "related_model", None) is Region:
            return getattr(instance, field.attname)
    return None


def audit_record(*, actor, instance, action: str, changes: dict | None = None):
    """Append one entry for ``instance``. Call inside the service's transaction,
    after the save, so that a rolled-back change leaves no entry."""
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        content_type=ContentType.objects.get_for_model(
            instance, for_concrete_model=False
        ),
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        region_id=region_of(instance),
        action=action,
        changes=changes or {},
    )


def audit_history(instance):
    """The entries of one record, newest first."""
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(
            instance, for_concrete_model=False
        ),
        object_id=str(instance.pk),
    ).select_related("actor")
