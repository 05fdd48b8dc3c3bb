"""Patrols, household visits and diary entries recorded by grid workers."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions
from ..choices import GRID_LEVELS
from ..cleaning import validated_save
from ..errors import DomainError
from ..models import Household, Patrol, Region
from ..photos import photo_from_upload


def patrol_record(
    *,
    actor,
    region: Region,
    kind: str,
    notes: str,
    occurred_at: dt.datetime | None = None,
    household: Household | None = None,
    photo=None,
) -> Patrol:
    """A grid worker records a patrol, a household visit or a diary entry."""
    permissions.require(permissions.can_record_patrol(actor))
    permissions.require_in_scope(actor, region)
    if region.level not in GRID_LEVELS:
        raise DomainError(
            _("Patrols are recorded on a grid or a building."), code="not_a_grid"
        )
    if (
        household is not None
        and not region.contains(household.region)
        and not household.region.contains(region)
    ):
        raise DomainError(
            _("The household is not in this grid."), code="household_elsewhere"
        )
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + dt.timedelta(minutes=5):
        raise DomainError(
            _("A patrol cannot be recorded in the future."), code="future"
        )
    stored = photo_from_upload(photo) if photo else None
    patrol = Patrol(
        worker=actor,
        region=region,
        kind=kind,
        occurred_at=occurred_at,
        household=household,
        notes=(notes or "").strip(),
        photo=stored.content if stored else "",
        gps_latitude=stored.latitude if stored else None,
        gps_longitude=stored.longitude if stored else None,
    )
    return validated_save(patrol)
