"""Cross-app pages: the landing page after login, the lockout page, the error
page."""

import sys

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.translation import gettext as _

from grids.db import as_domain_error

from .middleware import wants_json


@login_required
def home(request):
    """Staff go to the admin; grid workers and other accounts without admin
    access go to the phone app (/m/)."""
    if request.user.is_staff:
        return redirect("admin:index")
    return redirect("m:home")


def login_locked(request, original_response=None, credentials=None):
    """django-axes' lockout response (AXES_LOCKOUT_CALLABLE): too many failed
    logins for this username from this address; status 429."""
    return render(
        request,
        "registration/lockout.html",
        {
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        },
        status=429,
    )


def server_error(request):
    """The 500 handler (``handler500``): what a user sees when a request failed
    for a reason that is not theirs, never a traceback.

    The database being unreachable (connection refused, the server restarting,
    the connection dropped mid-request) is a 503 "the service is unavailable,
    try again" with ``Retry-After``; a lock or statement timeout that escaped
    the view's handling is the busy page's 409/503; anything else a plain 500.
    The page is drawn without the request's user or session (both need the
    database), from a template that extends nothing."""
    exc = sys.exc_info()[1]
    retry_after = None
    error = as_domain_error(exc) if exc is not None else None
    if error is not None:
        code, status, message, retry_after = (
            error.code,
            error.status,
            error.message,
            "3",
        )
    elif isinstance(exc, OperationalError | InterfaceError):
        code, status, retry_after = "unavailable", 503, "30"
        message = _(
            "The service is unavailable for a moment (the database cannot be "
            "reached). Nothing was saved: please try again in a minute."
        )
    else:
        code, status = "server_error", 500
        message = _(
            "Something went wrong on our side. The error was recorded; please try "
            "again, and tell your street's staff if it keeps happening."
        )
    if wants_json(request):
        response = JsonResponse(
            {"code": code, "message": message, "extra": {}}, status=status
        )
    else:
        page = loader.get_template("governance/error.html")
        response = HttpResponse(
            page.render(
                {
                    "message": message,
                    "status": status,
                    "retry_url": request.get_full_path()
                    if request.method == "GET"
                    else "",
                }
            ),
            status=status,
        )
    if retry_after:
        response["Retry-After"] = retry_after
    return response
