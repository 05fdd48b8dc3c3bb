"""Writes to the Region tree: create, change and move nodes, and the figures
(household and population counts) kept on them."""

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Concat, Length, Substr
from django.utils.translation import gettext as _

from .. import permissions
from ..choices import ALLOWED_CHILD_LEVELS, RegionLevel
from ..cleaning import validated_save
from ..errors import Conflict, DomainError
from ..history import record_bulk_history, records_actor
from ..models import Household, Region, Resident
from ._common import refuse_unknown_fields

# MPTT's bookkeeping, never validated as user input.
TREE_FIELDS = ["lft", "rght", "tree_id", "depth"]


def _lock_trees(*tree_ids) -> None:
    """Serialise writes to one MPTT tree by locking its root rows (sorted: no deadlock)."""
    ids = sorted({t for t in tree_ids if t is not None})
    if ids:
        list(
            Region.objects.select_for_update()
            .filter(tree_id__in=ids, parent__isnull=True)
            .order_by("tree_id")
            .values_list("pk", flat=True)
        )


@records_actor
def region_create(
    *,
    actor,
    name: str,
    level: str,
    parent: Region | None = None,
    code: str | None = None,
    households_count: int | None = None,
    population_count: int | None = None,
    latitude=None,
    longitude=None,
    boundary=None,
    is_active: bool = True,
) -> Region:
    permissions.require(permissions.can_manage_hierarchy(actor))
    if level not in RegionLevel.values:
        raise DomainError(
            _("Unknown level “%(level)s”.") % {"level": level}, code="invalid"
        )
    with transaction.atomic():
        if parent is not None:
            parent = Region.objects.select_for_update().get(pk=parent.pk)
            permissions.require_in_scope(actor, parent)
            _lock_trees(parent.tree_id)
        elif not actor.is_superuser:
            permissions.require(
                False, _("Only an administrator may create a new root.")
            )
        region = Region(
            parent=parent,
            name=(name or "").strip(),
            level=level,
            code=(code or "").strip() or None,
            households_count=households_count,
            population_count=population_count,
            latitude=latitude,
            longitude=longitude,
            boundary=boundary,
            is_active=is_active,
        )
        validated_save(
            region,
            exclude=TREE_FIELDS,
            conflict_message=_("Another region already has the code %(code)s.")
            % {"code": code},
        )
    return region


REGION_EDITABLE_FIELDS = (
    "name",
    "code",
    "households_count",
    "population_count",
    "latitude",
    "longitude",
    "boundary",
    "is_active",
)


@records_actor
def region_update(*, actor, region_id: int, **changes) -> Region:
    """Change a node's own fields. Its place in the tree changes by ``region_move``.

    The node's ``clean()`` checks the code against the (unchanged) parent.
    """
    refuse_unknown_fields(changes, REGION_EDITABLE_FIELDS)
    permissions.require(permissions.can_manage_hierarchy(actor))
    clash = _("Another region already has that code.")
    with transaction.atomic():
        region = Region.objects.select_for_update().filter(pk=region_id).first()
        permissions.require_in_scope(actor, region)
        old_code = region.code
        for field, value in changes.items():
            if field == "code":
                value = (value or "").strip() or None
            setattr(region, field, value)
        validated_save(
            region,
            exclude=[*TREE_FIELDS, "parent"],
            update_fields=list(changes),
            conflict_message=clash,
        )
        if old_code and region.code and old_code != region.code:
            try:
                with transaction.atomic():
                    _recode_descendants(region, old_code, region.code)
            except IntegrityError:
                raise Conflict(clash) from None
    return region


def _recode_descendants(region: Region, old_prefix: str, new_prefix: str) -> None:
    """Swap the code prefix of every descendant in one UPDATE, and record each
    recoded node's history (the UPDATE sends no signal)."""
    descendants = Region.objects.filter(
        tree_id=region.tree_id,
        lft__gt=region.lft,
        rght__lt=region.rght,
        code__startswith=old_prefix,
    )
    recoded = list(descendants.values_list("pk", flat=True))
    descendants.update(
        code=Concat(Value(new_prefix), Substr(F("code"), Length(Value(old_prefix)) + 1))
    )
    record_bulk_history(Region, Region.objects.filter(pk__in=recoded).order_by("pk"))


@records_actor
def region_move(
    *, actor, region_id: int, new_parent_id: int, new_code: str | None = None
) -> Region:
    """Move a node and its whole subtree under another parent.

    The level rules must hold at the new place. Codes follow the tree: the moved
    node gets ``new_code`` (or keeps its own last segment under the new parent's
    prefix) and every descendant's code prefix is rewritten to match.
    """
    permissions.require(permissions.can_manage_hierarchy(actor))
    with transaction.atomic():
        trees = Region.objects.filter(pk__in=[region_id, new_parent_id]).values_list(
            "tree_id", flat=True
        )
        _lock_trees(*trees)
        region = Region.objects.filter(pk=region_id).first()
        new_parent = Region.objects.filter(pk=new_parent_id).first()
        permissions.require_in_scope(actor, region)
        permissions.require_in_scope(actor, new_parent)
        if region.contains(new_parent):
            raise DomainError(
                _("A region cannot be moved under itself or its own descendants."),
                code="move_into_subtree",
            )
        if region.level not in ALLOWED_CHILD_LEVELS.get(new_parent.level, set()):
            raise DomainError(
                _("A %(level)s cannot be placed under a %(parent)s.")
                % {
                    "level": RegionLevel(region.level).label,
                    "parent": RegionLevel(new_parent.level).label,
                },
                code="illegal_parent",
            )
        old_code = region.code
        code = old_code
        if old_code or new_code:
            prefix = Region.expected_code_prefix(new_parent)
            if new_code:
                code = new_code.strip()
            elif old_code and not old_code.startswith(prefix):
                own_digits = len(old_code) - len(
                    Region.expected_code_prefix(region.parent)
                )
                code = prefix + old_code[-own_digits:] if own_digits > 0 else old_code
            error = Region.code_error(code, region.level, new_parent)
            if error:
                raise DomainError(error, code="invalid")
        try:
            with transaction.atomic():
                # MPTT moves the subtree with UPDATEs and saves the node with its
                # old code: one history row, below, records the move as a whole.
                region.skip_history_when_saving = True
                try:
                    region.move_to(new_parent, position="last-child")
                    region.refresh_from_db()
                    if code != old_code:
                        region.code = code
                        region.save(update_fields=["code"])
                finally:
                    del region.skip_history_when_saving
                record_bulk_history(Region, [region])
                if code != old_code and old_code:
                    _recode_descendants(region, old_code, code)
        except IntegrityError:
            raise Conflict(
                _(
                    "The moved codes clash with codes under the new parent; give a new code."
                )
            ) from None
    return region


def region_counts_refresh() -> int:
    """Recount households and residents of every Region from the household file.

    Set-based and bottom-up: one UPDATE gives every node its own rows' counts,
    then one UPDATE per tree depth (deepest first) adds the children's totals, so
    each node ends with its whole subtree. The number of statements depends on
    the depth of the tree (six levels at most), never on the number of rows.
    Idempotent. Returns the number of regions.
    """
    own_households = (
        Household.objects.filter(region=OuterRef("pk"))
        .order_by()
        .values("region")
        .annotate(n=Count("pk"))
        .values("n")
    )
    own_residents = (
        Resident.objects.filter(is_active=True, household__region=OuterRef("pk"))
        .order_by()
        .values("household__region")
        .annotate(n=Count("pk"))
        .values("n")
    )

    def children_sum(field):
        return Coalesce(
            Subquery(
                Region.objects.filter(parent=OuterRef("pk"))
                .order_by()
                .values("parent")
                .annotate(total=Sum(field))
                .values("total")
            ),
            0,
        )

    with transaction.atomic():
        updated = Region.objects.update(
            households_count=Coalesce(Subquery(own_households), 0),
            population_count=Coalesce(Subquery(own_residents), 0),
        )
        deepest = Region.objects.aggregate(deepest=Max("depth"))["deepest"] or 0
        for depth in range(deepest - 1, -1, -1):
            Region.objects.filter(depth=depth).update(
                households_count=F("households_count")
                + children_sum("households_count"),
                population_count=F("population_count")
                + children_sum("population_count"),
            )
    return updated
