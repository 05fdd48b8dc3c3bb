"""The grid workers' phone app, mounted at /m/: the shell (home, login, logout,
service worker, offline page) here, and each app's own phone pages from its
``phone_urls`` module (namespaces ``m:tickets``, ``m:points``, ``m:party``,
``m:grid``)."""

from django.urls import include, path

from . import phone_views

app_name = "m"
urlpatterns = [
    path("", phone_views.home, name="home"),
    path("reports/", phone_views.reports, name="reports"),
    path("login/", phone_views.PhoneLoginView.as_view(), name="login"),
    path("logout/", phone_views.PhoneLogoutView.as_view(), name="logout"),
    # Served from /m/ (not /static/) so that the worker's scope covers /m/.
    path("sw.js", phone_views.service_worker, name="service_worker"),
    path("offline/", phone_views.offline, name="offline"),
    path("tickets/", include("tickets.phone_urls")),
    path("points/", include("points.phone_urls")),
    path("party/", include("partyorg.phone_urls")),
    path("grid/", include("grids.phone_urls")),
]
