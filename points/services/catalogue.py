"""The rules catalogue (积分事项: 5 categories, 40 service items in seed 004).

A shared list: street staff keep it (``grids.permissions.can_keep_shared_lists``),
everyone reads it. Every change is validated (a duplicate code is a Conflict)
and logged with an audit entry carrying the diff. Nothing is deleted: awards
refer to the items; switch one off instead.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from grids.audit import audit_record, diff, field_values
from grids.choices import AuditAction
from grids.cleaning import validated_save
from grids.errors import DomainError
from grids.history import records_actor
from grids.permissions import require, require_in_scope

from .. import permissions
from ..models import RuleCategory, RuleItem

RULE_CATEGORY_FIELDS = ("code", "name", "sort_order", "is_active")
RULE_ITEM_FIELDS = (
    "category",
    "code",
    "name",
    "points",
    "cap_count",
    "cap_period",
    "active_from",
    "active_until",
    "is_active",
)


def _clean_strings(values: dict) -> dict:
    return {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}


def _refuse_unknown(changes: dict, allowed) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise DomainError(
            _("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )


def _action_for(changed: dict) -> str:
    if changed.get("is_active") == [True, False]:
        return AuditAction.DEACTIVATE
    return AuditAction.UPDATE


def _create(*, actor, instance, fields, conflict_message):
    with transaction.atomic():
        validated_save(instance, conflict_messages={"code": conflict_message})
        audit_record(
            actor=actor,
            instance=instance,
            action=AuditAction.CREATE,
            changes=diff({}, field_values(instance, fields)),
        )
    return instance


def _update(*, actor, model, pk, changes, fields, conflict_message):
    _refuse_unknown(changes, fields)
    with transaction.atomic():
        instance = model.objects.select_for_update().filter(pk=pk).first()
        if instance is None:
            require_in_scope(actor, None)
        before = field_values(instance, fields)
        for field, value in _clean_strings(changes).items():
            setattr(instance, field, value)
        changed = diff(before, field_values(instance, fields))
        if changed:
            validated_save(
                instance,
                update_fields=list(changed),
                conflict_messages={"code": conflict_message},
            )
            audit_record(
                actor=actor,
                instance=instance,
                action=_action_for(changed),
                changes=changed,
            )
    return instance


def _duplicate_category():
    return _("A rule category with this code already exists.")


def _duplicate_item():
    return _("A rule item with this code already exists.")


@records_actor
def rule_category_create(
    *, actor, code: str, name: str, sort_order: int = 0, is_active: bool = True
) -> RuleCategory:
    """Add a category to the catalogue (社会治安, 公益服务, …)."""
    require(permissions.can_keep_rules(actor))
    category = RuleCategory(
        **_clean_strings(
            {
                "code": code,
                "name": name,
                "sort_order": sort_order,
                "is_active": is_active,
            }
        )
    )
    return _create(
        actor=actor,
        instance=category,
        fields=RULE_CATEGORY_FIELDS,
        conflict_message=_duplicate_category(),
    )


@records_actor
def rule_category_update(*, actor, category_id: int, **changes) -> RuleCategory:
    """Change a category's code, name, order or whether it is in force."""
    require(permissions.can_keep_rules(actor))
    return _update(
        actor=actor,
        model=RuleCategory,
        pk=category_id,
        changes=changes,
        fields=RULE_CATEGORY_FIELDS,
        conflict_message=_duplicate_category(),
    )


@records_actor
def rule_category_deactivate(*, actor, category_id: int) -> RuleCategory:
    """Switch a category off: none of its items can be proposed any more."""
    return rule_category_update(actor=actor, category_id=category_id, is_active=False)


@records_actor
def rule_item_create(
    *,
    actor,
    category: RuleCategory,
    code: str,
    name: str,
    points: int,
    cap_count: int | None = None,
    cap_period: str = "",
    active_from=None,
    active_until=None,
    is_active: bool = True,
) -> RuleItem:
    """Add a service item worth points (积分事项), with an optional cap."""
    require(permissions.can_keep_rules(actor))
    item = RuleItem(
        **_clean_strings(
            {
                "category": category,
                "code": code,
                "name": name,
                "points": points,
                "cap_count": cap_count,
                "cap_period": cap_period or "",
                "active_from": active_from,
                "active_until": active_until,
                "is_active": is_active,
            }
        )
    )
    return _create(
        actor=actor,
        instance=item,
        fields=RULE_ITEM_FIELDS,
        conflict_message=_duplicate_item(),
    )


@records_actor
def rule_item_update(*, actor, rule_item_id: int, **changes) -> RuleItem:
    """Change an item. Pending proposals keep the points they were proposed with."""
    require(permissions.can_keep_rules(actor))
    if "cap_period" in changes:
        changes["cap_period"] = changes["cap_period"] or ""
    return _update(
        actor=actor,
        model=RuleItem,
        pk=rule_item_id,
        changes=changes,
        fields=RULE_ITEM_FIELDS,
        conflict_message=_duplicate_item(),
    )


@records_actor
def rule_item_deactivate(*, actor, rule_item_id: int) -> RuleItem:
    """Switch an item off: it can no longer be proposed or approved."""
    return rule_item_update(actor=actor, rule_item_id=rule_item_id, is_active=False)
