"""What the security tests walk: every registered ModelAdmin, and the paths from
its model to every personal-data field (``grids.masking``), found from the model
metadata so that admins and relations added later are covered too."""

from collections import deque

from django.apps import apps
from django.contrib import admin

from grids.masking import sensitive_fields_of


def registered_admins():
    """(model, ModelAdmin) for every registered admin, in a stable order."""
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def admin_ids():
    return [model._meta.label for model, _ in registered_admins()]


def sensitive_targets():
    """(model, field name) of every personal-data field of every model."""
    targets = []
    for model in apps.get_models():
        names = {f.name for f in model._meta.get_fields() if not f.is_relation}
        targets.extend(
            (model, name) for name in sorted(sensitive_fields_of(model) & names)
        )
    return targets


def sensitive_paths(model, max_relations: int = 2):
    """The shortest lookup path from ``model`` to each personal-data field within
    ``max_relations`` relations (forward and reverse): ``birth_date``,
    ``resident__birth_date``, ``household__residents__id_number``, …"""
    targets = {}
    for target_model, name in sensitive_targets():
        targets.setdefault(target_model, []).append(name)
    found = {}
    queue = deque([(model, "", 0)])
    seen = {model}
    while queue:
        current, prefix, depth = queue.popleft()
        for name in targets.get(current, ()):
            found.setdefault((current, name), prefix + name)
        if depth == max_relations:
            continue
        for field in current._meta.get_fields():
            related = field.related_model if field.is_relation else None
            if related is None or related in seen:
                continue
            if getattr(field, "hidden", False):
                continue  # a reverse relation without a query name (related_name="+")
            name = field.name
            seen.add(related)
            queue.append((related, f"{prefix}{name}__", depth + 1))
    return sorted(found.values())


def history_version_of(model, pk, missing):
    """The newest record-history version (``grids.history``) of ``model``'s object
    ``pk``, for the admin's version page ``<object_id>/history/<version_id>/``;
    ``missing`` when it has none."""
    manager_name = getattr(model._meta, "simple_history_manager_attribute", None)
    if manager_name is None:
        return missing
    version = (
        getattr(model, manager_name)
        .filter(**{model._meta.pk.attname: pk})
        .order_by("-history_id")
        .values_list("history_id", flat=True)
        .first()
    )
    return missing if version is None else version
