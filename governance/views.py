"""Cross-app pages: the landing page after login, the lockout page."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render


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
