"""Model validation as domain errors, for every app's services.

``full_clean`` runs Django's model validation and raises a ``DomainError`` with
the translated messages, or a ``Conflict`` when the failure is a uniqueness clash
the caller named (a duplicate code, phone or ID number). ``validated_save``
adds the save, with a clash the database finds mapped to the same Conflict.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .errors import Conflict, DomainError

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
    instance,
    *,
    exclude=None,
    conflict_message=None,
    conflict_messages=None,
    conflict_code=None,
    **options,
) -> None:
    """Validate ``instance``; refuse with a DomainError, or a Conflict for a clash.

    ``conflict_message``: the message for a uniqueness clash on any field.
    ``conflict_messages``: a message per field (the clashing fields go in
    ``extra``), with ``conflict_code`` as the error's code.
    """
    try:
        instance.full_clean(exclude=exclude, **options)
    except ValidationError as exc:
        clashes = _unique_clashes(exc)
        named = [f for f in clashes if f in (conflict_messages or {})]
        if named:
            raise Conflict(
                conflict_messages[named[0]],
                code=conflict_code or "duplicate",
                extra={"fields": named},
            ) from None
        if clashes and conflict_message:
            raise Conflict(conflict_message, code=conflict_code) from None
        if hasattr(exc, "error_dict"):
            messages = [str(m) for ms in exc.message_dict.values() for m in ms]
            extra = {"fields": exc.message_dict}
        else:
            messages, extra = [str(m) for m in exc.messages], {}
        raise DomainError(" ".join(messages), code="invalid", extra=extra) from None


def validated_save(
    instance,
    *,
    exclude=None,
    update_fields=None,
    conflict_message=None,
    conflict_messages=None,
    conflict_code=None,
    **options,
):
    """``full_clean`` then save in a savepoint; a uniqueness clash the database
    finds (a concurrent insert that validation could not see) becomes the same
    ``Conflict`` as one found by validation. Returns the saved instance.

    The one spelling of "validate → save → IntegrityError is a Conflict" for
    every app's services.
    """
    full_clean(
        instance,
        exclude=exclude,
        conflict_message=conflict_message,
        conflict_messages=conflict_messages,
        conflict_code=conflict_code,
        **options,
    )
    try:
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError:
        message = conflict_message or next(
            iter((conflict_messages or {}).values()),
            _("This clashes with an existing record."),
        )
        raise Conflict(message, code=conflict_code) from None
    return instance
