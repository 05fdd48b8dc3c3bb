"""Writes of the service sites: staff of the area add and change them (the
admin calls these)."""

from django.db import transaction
from django.utils.translation import gettext as _

from grids.choices import GRID_LEVELS, RegionLevel
from grids.cleaning import validated_save
from grids.errors import DomainError, OutOfScope
from grids.models import Region
from grids.permissions import STAFF_ROLES, has_role, require, require_in_scope

from .models import ServiceSite

SITE_FIELDS = (
    "name",
    "kind",
    "region",
    "address",
    "latitude",
    "longitude",
    "opening_hours",
    "services",
    "is_active",
)


def can_manage_sites(user) -> bool:
    """Street and community staff keep the sites of their area."""
    return has_role(user, STAFF_ROLES)


def _check_region(actor, region) -> Region:
    region = Region.objects.filter(pk=getattr(region, "pk", None)).first()
    require_in_scope(actor, region)
    if region.level not in {RegionLevel.STREET, RegionLevel.COMMUNITY, *GRID_LEVELS}:
        raise DomainError(
            _("A site serves a street, a community or a grid."), code="bad_region"
        )
    return region


def service_site_create(*, actor, **fields) -> ServiceSite:
    require(can_manage_sites(actor))
    unknown = set(fields) - set(SITE_FIELDS)
    if unknown:
        raise DomainError(_("Unknown fields."), code="unknown_fields")
    with transaction.atomic():
        fields["region"] = _check_region(actor, fields.get("region"))
        site = ServiceSite(**fields)
        validated_save(site)
    return site


def service_site_update(*, actor, site_id: int, **changes) -> ServiceSite:
    require(can_manage_sites(actor))
    unknown = set(changes) - set(SITE_FIELDS)
    if unknown:
        raise DomainError(_("Unknown fields."), code="unknown_fields")
    with transaction.atomic():
        site = (
            ServiceSite.objects.select_for_update()
            .select_related("region")
            .filter(pk=site_id)
            .first()
        )
        if site is None:
            raise OutOfScope(_("This object does not exist or lies outside your area."))
        require_in_scope(actor, site.region)
        if "region" in changes:
            changes["region"] = _check_region(actor, changes["region"])
        for field, value in changes.items():
            setattr(site, field, value)
        validated_save(site, update_fields=list(changes) or None)
    return site
