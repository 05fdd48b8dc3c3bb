"""Helpers the deliberation services share."""

from django.utils.translation import gettext as _

from grids.choices import RegionLevel
from grids.errors import DomainError
from grids.models import Region

TOPIC_LEVELS = (RegionLevel.COMMUNITY, RegionLevel.GRID)


def _fresh_region(region) -> Region | None:
    return Region.objects.filter(pk=getattr(region, "pk", region)).first()


def _community_of(region: Region) -> Region:
    community = region.ancestor_of_level(RegionLevel.COMMUNITY)
    if community is None:
        raise DomainError(
            _("This region does not lie in a community."), code="no_community"
        )
    return community


def _text(value, *, what: str, required: bool = True, limit: int | None = None):
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("Fill in %(what)s.") % {"what": what}, code="missing")
    if limit and len(value) > limit:
        raise DomainError(
            _("%(what)s is longer than %(limit)d characters.")
            % {"what": what, "limit": limit},
            code="too_long",
        )
    return value
