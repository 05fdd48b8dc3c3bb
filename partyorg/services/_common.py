"""Helpers shared by the partyorg services."""

from django.core.exceptions import ValidationError

from grids import permissions as grid_permissions
from grids.errors import DomainError


def full_clean(instance, exclude=None, **options) -> None:
    """Validate a model instance and turn Django's error into a DomainError."""
    try:
        instance.full_clean(exclude=exclude, **options)
    except ValidationError as exc:
        if hasattr(exc, "message_dict"):
            messages = [str(m) for ms in exc.message_dict.values() for m in ms]
            extra = {"fields": exc.message_dict}
        else:
            messages, extra = [str(m) for m in exc.messages], {}
        raise DomainError(" ".join(messages), code="invalid", extra=extra) from None


def require(allowed: bool, message=None) -> None:
    grid_permissions.require(allowed, message)


def require_in_scope(user, region) -> None:
    grid_permissions.require_in_scope(user, region)
