"""Building the party tree over the grids (支部建在网格上)."""

from django.db import transaction
from django.utils.translation import gettext as _

from grids.cleaning import validated_save
from grids.errors import Conflict, DomainError
from grids.history import records_actor
from grids.models import Region
from grids.permissions import require, require_in_scope

from .. import permissions
from ..models import PartyOrg

ORG_EDITABLE_FIELDS = ("name", "secretary", "is_active")


def _duplicate_name() -> str:
    return _("An organisation of this name already exists under this parent.")


def _lock_tree(tree_id) -> None:
    """Serialise inserts into one MPTT tree: every insert rewrites lft/rght of the
    nodes to its right, so two at once would corrupt the tree."""
    if tree_id is not None:
        list(
            PartyOrg.objects.select_for_update()
            .filter(tree_id=tree_id, parent__isnull=True)
            .values_list("pk", flat=True)
        )


@records_actor
def party_org_create(
    *,
    actor,
    name: str,
    org_type: str,
    region: Region,
    parent: PartyOrg | None = None,
    secretary: str = "",
    is_active: bool = True,
) -> PartyOrg:
    """Add an organisation covering ``region`` under ``parent`` (None: a root).

    The parent→child type rule, the Region level each type covers and "inside the
    parent's region" are all checked here, after the lock.
    """
    require(permissions.can_manage_orgs(actor))
    with transaction.atomic():
        if parent is not None:
            parent = (
                PartyOrg.objects.select_for_update()
                .select_related("region")
                .filter(pk=parent.pk)
                .first()
            )
            if parent is None:
                raise DomainError(_("The parent organisation does not exist."))
            _lock_tree(parent.tree_id)
            require_in_scope(actor, parent.region)
        region = Region.objects.filter(pk=region.pk).first() if region else None
        require_in_scope(actor, region)
        error = PartyOrg.placement_error(
            org_type=org_type, region=region, parent=parent
        )
        if error:
            raise DomainError(error, code="illegal_placement")
        org = PartyOrg(
            parent=parent,
            name=(name or "").strip(),
            org_type=org_type,
            region=region,
            secretary=(secretary or "").strip(),
            is_active=is_active,
        )
        # Uniqueness is checked here, under the tree lock, as a Conflict (the
        # constraint check of validation would run before it, as a plain error).
        if (
            parent is not None
            and PartyOrg.objects.filter(parent=parent, name=org.name).exists()
        ):
            raise Conflict(_duplicate_name(), code="duplicate_name")
        validated_save(
            org,
            exclude=["lft", "rght", "tree_id", "depth"],
            validate_constraints=False,
            conflict_message=_duplicate_name(),
            conflict_code="duplicate_name",
        )
    return org


@records_actor
def party_org_update(*, actor, org_id: int, **changes) -> PartyOrg:
    """Rename, change the secretary, or (de)activate. Type, region and parent are
    fixed once created: a wrong one is deactivated and created anew."""
    unknown = set(changes) - set(ORG_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            _("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    require(permissions.can_manage_orgs(actor))
    with transaction.atomic():
        org = (
            PartyOrg.objects.select_for_update()
            .select_related("region")
            .filter(pk=org_id)
            .first()
        )
        require_in_scope(actor, org.region if org else None)
        for field, value in changes.items():
            if isinstance(value, str):
                value = value.strip()
            setattr(org, field, value)
        validated_save(
            org,
            exclude=["lft", "rght", "tree_id", "depth", "parent"],
            update_fields=list(changes),
            conflict_message=_duplicate_name(),
        )
    return org
