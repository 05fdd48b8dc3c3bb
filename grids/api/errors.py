"""One error body for the whole API: ``{"code", "message", "extra"}`` with a 4xx
status, whatever went wrong — a refused domain action (``grids.errors``), a
malformed body, a missing login, an object outside the caller's area, a throttle.

Set as ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``; a view never formats an error
itself. Messages are translated into the request's language.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from grids.errors import DomainError

# DRF's own exception classes → our stable codes.
_CODES = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "malformed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "not_allowed",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def error_body(code: str, message, extra=None) -> dict:
    return {"code": code, "message": str(message), "extra": extra or {}}


def _validation_message(detail) -> str:
    """The first message of a DRF validation detail, for humans; the whole detail
    goes into ``extra``."""
    while isinstance(detail, (list, dict)) and detail:
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return str(detail) if detail else _("The request is not valid.")


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found, or outside your area."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 handling and logging take it
    code = next((code for cls, code in _CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.AuthenticationFailed):
        # Which refusal it was (token_expired, token_revoked…), when it says.
        code = getattr(exc.detail, "code", None) or code
    if isinstance(exc, exceptions.ValidationError):
        extra = {"fields": exc.detail}
        message = _validation_message(exc.detail)
    else:
        extra = {}
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            extra = {"retry_after": int(exc.wait)}
    response.data = error_body(code, message, extra)
    if response.status_code >= 500:  # never: every API error is the caller's
        response.status_code = status.HTTP_400_BAD_REQUEST
    return response
