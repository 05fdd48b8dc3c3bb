"""Database limits for web requests (see ``grids.db``).

``DatabaseTimeoutsMiddleware`` sets PostgreSQL's ``lock_timeout`` and
``statement_timeout`` just before a request's first statement, so a page never
waits long behind a periodic job's row locks (a request that needs no database
opens no connection); Celery jobs and management commands do not pass through
here and keep no limit. A lock wait or statement that ran out and reached the
view uncaught is answered with a clear message and a 409 (busy) or 503 (too
slow) instead of a 500; the service's transaction was rolled back.
"""

import logging

from django.http import JsonResponse
from django.shortcuts import render

from grids.db import as_domain_error, web_timeouts_for_request

logger = logging.getLogger(__name__)


def wants_json(request) -> bool:
    return request.path.startswith(
        "/api/"
    ) or "application/json" in request.headers.get("Accept", "")


class DatabaseTimeoutsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with web_timeouts_for_request():
            return self.get_response(request)

    def process_exception(self, request, exception):
        error = as_domain_error(exception)
        if error is None:
            return None
        logger.warning(
            "%s %s: %s (%s)", request.method, request.path, error.code, exception
        )
        if wants_json(request):
            response = JsonResponse(error.as_dict(), status=error.status)
        else:
            response = render(
                request,
                "governance/busy.html",
                {"message": error.message, "retry_url": request.get_full_path()},
                status=error.status,
            )
        response["Retry-After"] = "3"
        return response
