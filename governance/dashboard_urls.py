"""URLs of the supervisors' dashboard (included at ``dashboard/``)."""

from django.urls import path

from . import views_dashboard

# Its own namespace: other governance pages are included under other prefixes.
app_name = "dashboard"

urlpatterns = [
    path("", views_dashboard.dashboard_home, name="home"),
    path("<int:region_id>/", views_dashboard.dashboard_page, name="region"),
    path(
        "<int:region_id>/export/",
        views_dashboard.dashboard_export,
        name="export",
    ),
]
