"""The shell of the phone app (/m/): the home page that counts a grid worker's
work across apps, the phone login and logout, the service worker and the
offline page. The apps' own phone pages are in ``<app>/phone_views.py``."""

import hashlib

from django.contrib.auth import views as auth_views
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from grids.phone import phone_login_required
from grids.selectors import patrolled_today
from partyorg.selectors import wishes_waiting_count
from tickets.selectors import my_work_counts


@phone_login_required
def home(request):
    """My work: open tickets by stage, overdue, due today, unread notices (from
    the inbox context processor), today's patrol, wishes waiting on me."""
    user = request.user
    return render(
        request,
        "governance/m/home.html",
        {
            "tickets": my_work_counts(actor=user),
            "patrolled_today": patrolled_today(actor=user),
            "wishes_waiting": wishes_waiting_count(actor=user),
        },
    )


@require_GET
@phone_login_required
def reports(request):
    """The read-only reports this account may open (the 报表 block)."""
    return render(request, "governance/m/reports.html")


class PhoneLoginView(auth_views.LoginView):
    """Django's login (django-axes counts the failures through its backend) with
    the phone template; grid workers land on /m/."""

    template_name = "m/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("m:home")


class PhoneLogoutView(auth_views.LogoutView):
    next_page = "m:login"


def _shell_version() -> str:
    """Changes when a shell file changes, so the worker refreshes its cache."""
    digest = hashlib.sha256()
    for name in ("m/m.css", "m/m.js", "m/htmx.min.js"):
        path = finders.find(name)
        if path:
            with open(path, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()[:12]


@require_GET
@cache_control(no_cache=True, max_age=0)
def service_worker(request):
    body = render_to_string(
        "m/sw.js",
        {
            "version": _shell_version(),
            # Never kept offline: the login and logout pages.
            "no_cache_paths": [reverse("m:login"), reverse("m:logout")],
        },
    )
    return HttpResponse(body, content_type="text/javascript; charset=utf-8")


@require_GET
def offline(request):
    return render(request, "m/offline.html")
