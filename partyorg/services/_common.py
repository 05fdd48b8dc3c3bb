"""Helpers shared by the partyorg services."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from grids import permissions as grid_permissions
from grids.errors import Conflict, DomainError

# Django's codes for a unique field, a unique_together or a one-field
# UniqueConstraint clash.
UNIQUE_ERROR_CODES = {"unique", "unique_together"}


def _unique_clashes(exc: ValidationError) -> list[str]:
    """The fields (or NON_FIELD_ERRORS) whose error is a uniqueness clash."""
    if not hasattr(exc, "error_dict"):
        return [NON_FIELD_ERRORS] if _has_unique(exc.error_list) else []
    return [f for f, errors in exc.error_dict.items() if _has_unique(errors)]


def _has_unique(errors) -> bool:
    return any(getattr(e, "code", None) in UNIQUE_ERROR_CODES for e in errors)


def full_clean(
    instance, exclude=None, *, conflict_messages=None, conflict_code=None, **options
) -> None:
    """Validate a model instance and turn Django's error into a DomainError.

    ``conflict_messages`` maps a field name to the message of a uniqueness clash
    on it (a duplicate phone, a roster person already linked): such a clash is
    raised as a Conflict (409) with that message and ``conflict_code`` — not as
    the generic "invalid" DomainError (mirrors ``grids.services._full_clean``).
    """
    try:
        instance.full_clean(exclude=exclude, **options)
    except ValidationError as exc:
        clashes = [f for f in _unique_clashes(exc) if f in (conflict_messages or {})]
        if clashes:
            raise Conflict(
                conflict_messages[clashes[0]],
                code=conflict_code or "duplicate",
                extra={"fields": clashes},
            ) from None
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
