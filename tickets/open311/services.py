"""Open311 writes: a client key issued or revoked, a key checked, and a service
request posted — a resident's self-report (群众自报) taken through
``ticket_self_report`` into the street's triage queue, like the QR poster's.

Where a request lands: the grid named by ``address_id`` (the grid's region
code), else the grid of the key's area nearest to ``lat``/``long`` (the grids'
centre points). An address string alone cannot be placed and is refused.
"""

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import ExpressionWrapper, F, FloatField, Value
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import RegionLevel
from grids.errors import DomainError, NotAllowed, OutOfScope
from grids.permissions import require, require_in_scope
from grids.querysets import subtree_q

from .. import permissions
from ..models import Category
from ..services.selfreport import self_report_grids, ticket_self_report
from .models import Open311Client, Open311Request

KEY_BYTES = 24
# A key's last use is written at most this often (one UPDATE, not one per call).
LAST_USED_RESOLUTION_SECONDS = 60
# Levels a key may be issued for: its requests are placed in the grids below.
CLIENT_LEVELS = (RegionLevel.DISTRICT, RegionLevel.STREET)


def key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def open311_client_create(*, actor, name: str, region) -> tuple[Open311Client, str]:
    """Issue a key to a civic application for ``region`` (a district or a
    street in the actor's area). Returns the row and the key, which is never
    stored and so shown only this once."""
    require(permissions.can_manage_open311_clients(actor))
    require_in_scope(actor, region)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Name the application."), code="invalid")
    if region.level not in CLIENT_LEVELS:
        raise DomainError(
            _("A key is issued for a district or a street."), code="invalid"
        )
    raw_key = secrets.token_urlsafe(KEY_BYTES)
    client = Open311Client.objects.create(
        name=name[:100],
        region=region,
        key_digest=key_digest(raw_key),
        key_prefix=raw_key[:8],
        created_by=actor,
    )
    return client, raw_key


def open311_client_revoke(*, actor, client_id: int) -> Open311Client:
    """Revoke a key: posts with it are refused from now on (its requests stay)."""
    require(permissions.can_manage_open311_clients(actor))
    with transaction.atomic():
        client = (
            Open311Client.objects.select_for_update()
            .select_related("region")
            .filter(pk=client_id)
            .first()
        )
        if client is None:
            raise OutOfScope(_("This object does not exist or lies outside your area."))
        require_in_scope(actor, client.region)
        if client.is_active:
            client.is_active = False
            client.save(update_fields=["is_active"])
    return client


def open311_client_for_key(*, api_key: str) -> Open311Client:
    """The active client holding ``api_key``; ``NotAllowed`` otherwise. Notes the
    use (at most once a minute per key)."""
    if not api_key or len(api_key) > 200:
        raise NotAllowed(_("api_key was not provided or is not valid."))
    client = (
        Open311Client.objects.select_related("region")
        .filter(key_digest=key_digest(api_key), is_active=True)
        .first()
    )
    if client is None:
        raise NotAllowed(_("api_key was not provided or is not valid."))
    now = timezone.now()
    stale = now - timezone.timedelta(seconds=LAST_USED_RESOLUTION_SECONDS)
    if client.last_used_at is None or client.last_used_at < stale:
        Open311Client.objects.filter(pk=client.pk).update(last_used_at=now)
    return client


MEDIA_URL_MAX_LENGTH = 500
_MEDIA_URL = URLValidator(schemes=["http", "https"])


def check_media_url(value) -> str:
    """``media_url`` trimmed; "" when not given; refused (400) unless an http or
    https URL of at most ``MEDIA_URL_MAX_LENGTH`` characters."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        if len(value) > MEDIA_URL_MAX_LENGTH:
            raise ValidationError("too long")
        _MEDIA_URL(value)
    except ValidationError:
        raise DomainError(
            _("media_url is not an http or https URL (at most %(max)d characters).")
            % {"max": MEDIA_URL_MAX_LENGTH},
            code="invalid",
        ) from None
    return value


def _float(value, name):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DomainError(
            _("%(name)s is not a number.") % {"name": name}, code="invalid"
        ) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise DomainError(_("%(name)s is not a number.") % {"name": name})
    return number


def open311_locate_grid(*, client: Open311Client, address_id="", lat=None, long=None):
    """The grid of the client's area a request belongs to (see the module's
    docstring); ``DomainError`` when none can be found."""
    grids = self_report_grids().filter(subtree_q(client.region))
    if address_id:
        grid = grids.filter(code=str(address_id)[:18]).first()
        if grid is None:
            raise DomainError(
                _("address_id is not a grid of this area."), code="address_not_found"
            )
        return grid
    if lat in (None, "") or long in (None, ""):
        raise DomainError(
            _("Give the location: lat and long, or the grid's address_id."),
            code="location_missing",
        )
    lat, long = _float(lat, "lat"), _float(long, "long")
    north = Cast(F("latitude"), FloatField()) - Value(lat)
    east = Cast(F("longitude"), FloatField()) - Value(long)
    grid = (
        grids.filter(latitude__isnull=False, longitude__isnull=False)
        .annotate(
            distance=ExpressionWrapper(
                north * north + east * east, output_field=FloatField()
            )
        )
        .order_by("distance", "pk")
        .first()
    )
    if grid is None:
        raise DomainError(
            _("No grid of this area could be found near this location."),
            code="address_not_found",
        )
    return grid


def open311_request_create(
    *,
    client: Open311Client,
    service_code: str,
    description: str,
    phone: str,
    lat=None,
    long=None,
    address_string: str = "",
    address_id: str = "",
    client_ip: str = "",
    media_url: str = "",
    photos=(),
) -> Open311Request:
    """Post a service request: a resident's self-report in the grid it is
    located in, plus the Open311 row that makes it public. Refusals are the
    self-report's (description, phone, location, rate, duplicate, a photo that
    is not one), an unknown or inactive ``service_code`` (``OutOfScope``) and a
    ``media_url`` that is not an http(s) URL.

    ``media_url`` (the spec's: media the client hosts) is kept in the ticket's
    first event and returned by ``GET requests``; it is not fetched. ``photos``
    (uploaded files, the ``media`` extension) become the ticket's photos for
    staff and are never published."""
    media_url = check_media_url(media_url)
    category = Category.objects.filter(
        service_code=service_code or "", is_active=True
    ).first()
    if category is None:
        raise OutOfScope(_("service_code was not found."), code="service_not_found")
    grid = open311_locate_grid(client=client, address_id=address_id, lat=lat, long=long)
    with transaction.atomic():
        ticket = ticket_self_report(
            grid_id=grid.pk,
            category=category,
            description=description,
            phone=phone,
            address=address_string,
            latitude=lat if lat not in ("", None) else None,
            longitude=long if long not in ("", None) else None,
            client_ip=client_ip,
            channel="open311",
            photos=photos,
            event_data={"media_url": media_url} if media_url else None,
        )
        return Open311Request.objects.create(
            ticket=ticket, client=client, requested_at=ticket.received_at
        )
