"""Shared pieces of the phone pages (/m/) that every app's ``phone_views`` uses:
the login guard that sends to the phone login, and the one way a phone form
runs a service (idempotency key, DomainError shown as a message on the form)."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required

from .errors import DomainError
from .idempotency import with_idempotency


def phone_login_required(view):
    """``login_required`` with the phone login page (``PHONE_LOGIN_URL``)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        guarded = login_required(view, login_url=settings.PHONE_LOGIN_URL)
        return guarded(request, *args, **kwargs)

    return wrapper


def run_form(request, *, scope: str, run, success_message=""):
    """Run a valid phone form once (``with_idempotency``). Returns the redirect,
    or None after a refusal by the service (its message is added to the
    page's messages and nothing was written), so the view shows the form again
    with what was typed."""
    try:
        response = with_idempotency(request, scope, run)
    except DomainError as error:
        messages.error(request, error.message)
        return None
    if success_message and not response.replayed:
        messages.success(request, success_message)
    return response
