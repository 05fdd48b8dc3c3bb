"""The catalogue: departments, ticket categories and deadline classes (办理时限类别).

Each change is validated (``grids.cleaning.validated_save``), checked against the
actor's role and area, and written to the audit log (one entry per change, with
the fields that changed). Nothing is deleted: a row others refer to is switched
off instead.

Who keeps what:
- departments: the street centre (``permissions.can_manage_departments``), its
  own area's; a shared department (no region) only an administrator;
- categories: a shared list (``can_keep_shared_lists``);
- deadline classes: a street keeps its own for its subtree; shared ones (no
  region) only an administrator.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from grids.audit import audit_record, diff, field_values
from grids.choices import AuditAction
from grids.cleaning import full_clean, validated_save
from grids.errors import Conflict, DomainError
from grids.permissions import can_keep_shared_lists, require, require_in_scope

from .. import permissions
from ..choices import STANDARD_DEADLINE_CLASSES, DeadlineClass
from ..models import Category, Department, HandlingLimit

DEPARTMENT_FIELDS = ("name", "region", "is_active")
CATEGORY_FIELDS = (
    "name",
    "parent",
    "service_code",
    "default_department",
    "deadline_class",
    "is_active",
)
DEADLINE_CLASS_FIELDS = ("code", "name", "days", "unit", "region", "is_active")

# The names the migration gives the standard classes (data, in Chinese).
STANDARD_DEADLINE_CLASS_NAMES = {
    DeadlineClass.EASY: "简易纠纷",
    DeadlineClass.GENERAL: "一般纠纷及12345热线",
    DeadlineClass.HARD: "疑难复杂",
}


def _changes(before: dict, instance, fields) -> dict:
    return diff(before, field_values(instance, fields))


def _apply(instance, changes: dict, allowed) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise DomainError(
            _("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))},
            code="invalid",
        )
    for name, value in changes.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)


def _require_admin(actor) -> None:
    require(
        actor is not None and actor.is_superuser,
        _("Shared entries serve every area: only an administrator changes them."),
    )


# --- departments ---------------------------------------------------------------


def _require_department_keeper(actor, region) -> None:
    require(permissions.can_manage_departments(actor))
    if region is None:
        _require_admin(actor)
    else:
        require_in_scope(actor, region)


def department_create(*, actor, name: str, region=None, members=()) -> Department:
    _require_department_keeper(actor, region)
    department = Department(name=(name or "").strip(), region=region)
    with transaction.atomic():
        validated_save(
            department,
            conflict_messages={"name": _("A department of this name exists.")},
            conflict_code="duplicate_name",
        )
        if members:
            department.members.set(members)
        audit_record(
            actor=actor,
            instance=department,
            action=AuditAction.CREATE,
            changes=_changes({}, department, DEPARTMENT_FIELDS),
        )
    return department


def department_update(
    *, actor, department_id: int, members=None, **changes
) -> Department:
    """Change a department's name, region or active flag (and its members)."""
    with transaction.atomic():
        department = (
            Department.objects.select_for_update().filter(pk=department_id).first()
        )
        if department is None:
            require_in_scope(actor, None)
        _require_department_keeper(actor, department.region)
        before = field_values(department, DEPARTMENT_FIELDS)
        _apply(department, changes, DEPARTMENT_FIELDS)
        if "region" in changes:
            _require_department_keeper(actor, department.region)
        validated_save(
            department,
            conflict_messages={"name": _("A department of this name exists.")},
            conflict_code="duplicate_name",
        )
        changed = _changes(before, department, DEPARTMENT_FIELDS)
        if members is not None:
            old = sorted(department.members.values_list("pk", flat=True))
            department.members.set(members)
            new = sorted(department.members.values_list("pk", flat=True))
            if old != new:
                changed["members"] = [old, new]
        if changed:
            audit_record(
                actor=actor,
                instance=department,
                action=AuditAction.UPDATE,
                changes=changed,
            )
    return department


def department_deactivate(*, actor, department_id: int) -> Department:
    return _deactivate(
        Department,
        department_id,
        actor,
        lambda d: _require_department_keeper(actor, d.region),
    )


# --- categories ----------------------------------------------------------------


def _save_category(category: Category) -> None:
    same_name = _("This parent already has a category of this name.")
    # PostgreSQL's unique (parent, name) lets top-level names repeat (NULL parent).
    if (
        category.parent_id is None
        and Category.objects.filter(parent=None, name=category.name)
        .exclude(pk=category.pk)
        .exists()
    ):
        raise Conflict(same_name, code="duplicate", extra={"fields": ["name"]})
    validated_save(
        category,
        conflict_messages={
            "service_code": _("A category with this service code exists."),
            NON_FIELD_ERRORS: same_name,
        },
        conflict_code="duplicate",
    )


def _require_default_department_reachable(actor, category) -> None:
    """A category's default department must be one the actor's area may send
    tickets to (shared, or serving the area): never another district's."""
    if category.default_department_id is None:
        return
    if (
        not Department.objects.dispatchable_by(actor)
        .filter(pk=category.default_department_id)
        .exists()
    ):
        require_in_scope(actor, None)


def category_create(
    *,
    actor,
    name: str,
    service_code: str,
    parent: Category | None = None,
    default_department: Department | None = None,
    deadline_class=DeadlineClass.GENERAL,
) -> Category:
    """A new category; its ``service_code`` (Open311) is required and stays."""
    require(can_keep_shared_lists(actor))
    service_code = (service_code or "").strip()
    if not service_code:
        raise DomainError(_("Give the category a service code."), code="required")
    category = Category(
        name=(name or "").strip(),
        service_code=service_code,
        parent=parent,
        default_department=default_department,
        deadline_class=deadline_class,
    )
    _require_default_department_reachable(actor, category)
    with transaction.atomic():
        _save_category(category)
        audit_record(
            actor=actor,
            instance=category,
            action=AuditAction.CREATE,
            changes=_changes({}, category, CATEGORY_FIELDS),
        )
    return category


def category_update(*, actor, category_id: int, **changes) -> Category:
    require(can_keep_shared_lists(actor))
    with transaction.atomic():
        category = Category.objects.select_for_update().filter(pk=category_id).first()
        if category is None:
            require_in_scope(actor, None)
        before = field_values(category, CATEGORY_FIELDS)
        _apply(category, changes, CATEGORY_FIELDS)
        if not category.service_code:
            raise DomainError(_("Give the category a service code."), code="required")
        if "default_department" in changes:
            _require_default_department_reachable(actor, category)
        _save_category(category)
        changed = _changes(before, category, CATEGORY_FIELDS)
        if changed:
            audit_record(
                actor=actor,
                instance=category,
                action=AuditAction.UPDATE,
                changes=changed,
            )
    return category


def category_deactivate(*, actor, category_id: int) -> Category:
    return _deactivate(
        Category, category_id, actor, lambda c: require(can_keep_shared_lists(actor))
    )


# --- deadline classes ----------------------------------------------------------


def _require_class_keeper(actor, region) -> None:
    require(can_keep_shared_lists(actor))
    if region is None:
        _require_admin(actor)
    else:
        require_in_scope(actor, region)


def _class_conflicts() -> dict:
    return {NON_FIELD_ERRORS: _("A deadline class of this name exists here.")}


def deadline_class_create(
    *, actor, code: str, name: str, days: int, unit: str, region=None
) -> HandlingLimit:
    """A deadline class: shared (no region, administrators) or a street's own."""
    _require_class_keeper(actor, region)
    limit = HandlingLimit(
        code=(code or "").strip(),
        name=(name or "").strip(),
        days=days,
        unit=unit,
        region=region,
    )
    conflicts = {
        "code": _("A deadline class with this code exists."),
        **_class_conflicts(),
    }
    full_clean(limit, conflict_messages=conflicts, conflict_code="duplicate")
    with transaction.atomic():
        # The code is the primary key: a plain save of a clashing code would
        # overwrite the other class, so the insert is forced.
        try:
            with transaction.atomic():
                limit.save(force_insert=True)
        except IntegrityError:
            raise Conflict(conflicts["code"], code="duplicate") from None
        audit_record(
            actor=actor,
            instance=limit,
            action=AuditAction.CREATE,
            changes=_changes({}, limit, DEADLINE_CLASS_FIELDS),
        )
    return limit


def deadline_class_update(*, actor, code: str, **changes) -> HandlingLimit:
    """Change a class's name, days, unit or active flag. Deadlines already set
    stay as they are; the change applies to deadlines set from now on."""
    with transaction.atomic():
        limit = HandlingLimit.objects.select_for_update().filter(pk=code).first()
        if limit is None:
            require_in_scope(actor, None)
        _require_class_keeper(actor, limit.region)
        before = field_values(limit, DEADLINE_CLASS_FIELDS)
        _apply(limit, changes, ("name", "days", "unit", "is_active"))
        validated_save(
            limit,
            conflict_messages=_class_conflicts(),
            conflict_code="duplicate",
        )
        changed = _changes(before, limit, DEADLINE_CLASS_FIELDS)
        if changed:
            audit_record(
                actor=actor,
                instance=limit,
                action=AuditAction.UPDATE,
                changes=changed,
            )
    return limit


def deadline_class_deactivate(*, actor, code: str) -> HandlingLimit:
    return _deactivate(
        HandlingLimit, code, actor, lambda c: _require_class_keeper(actor, c.region)
    )


def deadline_class_for(*, code: str, region) -> HandlingLimit:
    """The class ``code`` if a ticket placed in ``region`` may take it (shared,
    or its street's own, and active); else a DomainError."""
    limit = HandlingLimit.objects.usable_in(region).filter(pk=code).first()
    if limit is None:
        raise DomainError(
            _("This deadline class cannot be used here."), code="invalid_deadline"
        )
    return limit


def deadline_classes_ensure_standard() -> int:
    """Create the standard classes that are missing (as the migration does): for
    a database emptied by a flush. Returns how many were created."""
    present = set(
        HandlingLimit.objects.filter(pk__in=STANDARD_DEADLINE_CLASSES).values_list(
            "pk", flat=True
        )
    )
    missing = [
        HandlingLimit(
            code=code, name=STANDARD_DEADLINE_CLASS_NAMES[code], days=days, unit=unit
        )
        for code, (days, unit) in STANDARD_DEADLINE_CLASSES.items()
        if code not in present
    ]
    HandlingLimit.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


# --- shared ----------------------------------------------------------------------


def _deactivate(model, pk, actor, check):
    with transaction.atomic():
        row = model.objects.select_for_update().filter(pk=pk).first()
        if row is None:
            require_in_scope(actor, None)
        check(row)
        if not row.is_active:
            return row
        row.is_active = False
        row.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            instance=row,
            action=AuditAction.DEACTIVATE,
            changes={"is_active": [True, False]},
        )
    return row
