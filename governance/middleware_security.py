"""Security middleware of the project: session lifetimes by kind of account, the
Permissions-Policy header, and the second factor (TOTP) required of staff before
the admin.

Settings (governance/settings.py, "Security" section):

SESSION_IDLE_TIMEOUT_GRID_WORKER   idle time after which a phone session ends
SESSION_IDLE_TIMEOUT_STAFF         idle time after which a staff session ends
SESSION_ABSOLUTE_TIMEOUT_GRID_WORKER, SESSION_ABSOLUTE_TIMEOUT_STAFF
                                   time since login after which a session ends
PERMISSIONS_POLICY                 {feature: allow-list}, written as the header
STAFF_REQUIRE_OTP                  staff without a confirmed TOTP device must enrol
"""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

# Session keys: when the user logged in and when they were last seen (Unix time).
LOGIN_AT = "gw_login_at"
LAST_SEEN = "gw_last_seen"
# Writing the session on every request costs a write per click; a minute of
# slack in the idle clock is enough.
LAST_SEEN_RESOLUTION = 60


def session_limits(user) -> tuple[timedelta, timedelta]:
    """(idle timeout, absolute lifetime) of a session of ``user``: staff (admin
    access) have the shorter absolute lifetime, phone accounts (shared phones) the
    shorter idle timeout."""
    if user.is_staff:
        return (
            settings.SESSION_IDLE_TIMEOUT_STAFF,
            settings.SESSION_ABSOLUTE_TIMEOUT_STAFF,
        )
    return (
        settings.SESSION_IDLE_TIMEOUT_GRID_WORKER,
        settings.SESSION_ABSOLUTE_TIMEOUT_GRID_WORKER,
    )


class SessionTimeoutMiddleware:
    """End a logged-in session that was idle too long or is older than its
    absolute lifetime: log out, say why, and send the user to the login page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(timezone.now().timestamp())
            session = request.session
            login_at = session.get(LOGIN_AT)
            last_seen = session.get(LAST_SEEN)
            if login_at is None or last_seen is None:
                # A session from before this middleware, or made by force_login.
                session[LOGIN_AT] = login_at = now
                session[LAST_SEEN] = last_seen = now
            idle, lifetime = session_limits(user)
            if (
                now - last_seen > idle.total_seconds()
                or now - login_at > lifetime.total_seconds()
            ):
                logout(request)
                messages.info(
                    request, _("Your session has ended. Please log in again.")
                )
                next_url = request.get_full_path() if request.method == "GET" else None
                if next_url:
                    return redirect_to_login(next_url)
                return redirect(settings.LOGIN_URL)
            if now - last_seen >= LAST_SEEN_RESOLUTION:
                session[LAST_SEEN] = now
        return self.get_response(request)


def stamp_login(sender, request, user, **kwargs):
    """``user_logged_in`` receiver: start the session clocks at login."""
    if request is not None and hasattr(request, "session"):
        now = int(timezone.now().timestamp())
        request.session[LOGIN_AT] = now
        request.session[LAST_SEEN] = now


class PermissionsPolicyMiddleware:
    """Write ``Permissions-Policy`` from settings.PERMISSIONS_POLICY: camera and
    location for this site's own pages (photos, patrols), everything else off."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(allow)})"
            for feature, allow in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response


class StaffOtpMiddleware:
    """Before the admin, staff who have a confirmed TOTP device must verify it in
    this session; with settings.STAFF_REQUIRE_OTP, staff without one must enrol
    first. Phone accounts (no admin access) are not asked."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.is_staff
            and request.path.startswith(reverse("admin:index"))
            and request.path != reverse("admin:logout")
            and not user.is_verified()
        ):
            from django_otp import user_has_device

            if user_has_device(user, confirmed=True):
                return redirect_to_login(
                    request.get_full_path(), login_url=reverse("otp_verify")
                )
            if settings.STAFF_REQUIRE_OTP:
                return redirect_to_login(
                    request.get_full_path(), login_url=reverse("otp_setup")
                )
        return self.get_response(request)
