"""Refusing a request body that is too large before anything reads it."""

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _


class RequestBodyLimitMiddleware:
    """Answer 413 to a request that declares a body over
    ``UPLOAD_MAX_REQUEST_BYTES``. Django reads no more than ``Content-Length``
    (a body without one is read as empty), so the declared length is the bound;
    the front proxy's ``client_max_body_size`` refuses it even earlier."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.UPLOAD_MAX_REQUEST_BYTES:
            return HttpResponse(
                _("The request is too large (%(size)d MB at most).")
                % {"size": settings.UPLOAD_MAX_REQUEST_BYTES // (1024 * 1024)},
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
