"""API tokens (接口令牌): made and revoked by whoever manages the account's
people (street staff in their street, administrators anywhere), checked on
every API request by ``grids.api.authentication``.

A key is ``gw_<12 hex>.<43 random url-safe characters>``. The part before the
dot is stored as it is, unique, to find the row; the whole key only as its
SHA-256, compared in constant time. The key is returned once, by
``api_token_create``, and cannot be shown again.
"""

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions
from ..errors import DomainError, NotAllowed
from ..models import ApiToken
from ..prepared import PreparedQuery

KEY_PREFIX = "gw_"
_KEY_PATTERN = re.compile(r"^(gw_[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$")
# last_used_at is written at most this often per token (one conditional UPDATE).
LAST_USED_RESOLUTION = timedelta(minutes=1)
# The lookup of every API request, compiled once (grids.prepared).
_TOKEN_BY_PREFIX = PreparedQuery(
    lambda prefix: ApiToken.objects.select_related("user__region").filter(
        prefix=prefix
    )[:1],
    prefix=str,
)
# Hashed when no row has the prefix, so that a miss costs what a hit costs.
_NO_HASH = hashlib.sha256(b"no such token").hexdigest()


class TokenRefused(DomainError):
    """A key that is not (or no longer) good: 401 with a stable code."""

    status = 401
    code = "token_invalid"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> tuple[str, str]:
    prefix = KEY_PREFIX + secrets.token_hex(6)
    return prefix, f"{prefix}.{secrets.token_urlsafe(32)}"


def _check_may_manage(actor, user) -> None:
    """Tokens of an account are kept by who may keep the account itself."""
    permissions.require(
        permissions.is_active_user(actor)
        and (actor.is_superuser or permissions.can_manage_accounts(actor)),
        _("Your role may not manage API tokens."),
    )
    if actor.is_superuser:
        return
    permissions.require_in_scope(actor, user.region)
    if user.is_superuser or user.role not in permissions.roles_grantable_by(actor):
        raise NotAllowed(_("You may not manage this account's tokens."))


def api_token_create(
    *, actor, user, name: str, expires_at=None
) -> tuple[ApiToken, str]:
    """A new token for ``user``: ``(token, key)``, the key shown this once.
    Expiry defaults to ``API_TOKEN_DEFAULT_DAYS`` from now and may not lie in the
    past or further than ``API_TOKEN_MAX_DAYS``."""
    _check_may_manage(actor, user)
    if not user.is_active:
        raise DomainError(
            _("This account is closed; it cannot have a token."), code="inactive"
        )
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Say what the token is for."), code="name_required")
    now = timezone.now()
    if expires_at is None:
        expires_at = now + timedelta(days=settings.API_TOKEN_DEFAULT_DAYS)
    if expires_at <= now:
        raise DomainError(_("The expiry must lie in the future."), code="expiry")
    if expires_at > now + timedelta(days=settings.API_TOKEN_MAX_DAYS):
        raise DomainError(
            _("A token may be valid for at most %(days)d days.")
            % {"days": settings.API_TOKEN_MAX_DAYS},
            code="expiry",
        )
    prefix, key = _new_key()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=prefix,
        key_hash=_hash(key),
        created_by=actor,
        expires_at=expires_at,
    )
    return token, key


def api_token_revoke(*, actor, token_id: int) -> ApiToken:
    """Revoke a token for good. Revoking a revoked token changes nothing."""
    with transaction.atomic():
        token = (
            ApiToken.objects.select_for_update(of=("self",))
            .select_related("user__region")
            .filter(pk=token_id)
            .first()
        )
        if token is None:
            permissions.require_in_scope(actor, None)
        _check_may_manage(actor, token.user)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.revoked_by = actor
            token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def api_token_authenticate(*, key: str, now=None) -> ApiToken:
    """The live token whose key is ``key`` (with its user), its last use noted;
    ``TokenRefused`` for a key that is malformed, unknown, revoked, expired or
    whose account is closed."""
    now = now or timezone.now()
    match = _KEY_PATTERN.match(key or "")
    token = None
    if match:
        token = _TOKEN_BY_PREFIX.first(prefix=match.group(1))
    expected = token.key_hash if token is not None else _NO_HASH
    if not hmac.compare_digest(expected, _hash(key or "")) or token is None:
        raise TokenRefused(_("This API token is not valid."))
    if token.revoked_at is not None:
        raise TokenRefused(_("This API token has been revoked."), code="token_revoked")
    if token.expires_at <= now:
        raise TokenRefused(_("This API token has expired."), code="token_expired")
    if not token.user.is_active:
        raise TokenRefused(
            _("The account of this API token is closed."), code="token_inactive"
        )
    # At most one write a minute per token, whatever the request rate.
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True)
            | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
    return token
