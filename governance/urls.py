"""Root URLs: the admin, the apps' pages, i18n switching."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import media, views, views_otp

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Second factor for staff (django-otp); failed logins are counted by django-axes
    # through the authentication backend, so the login routes stay Django's own.
    path("accounts/otp/setup/", views_otp.otp_setup, name="otp_setup"),
    path("accounts/otp/verify/", views_otp.otp_verify, name="otp_verify"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("governance.api_urls")),
    # The OpenAPI 3 document and its browsable docs (docs/api.md).
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script as a file: our CSP refuses inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    # Open311 GeoReport v2 for civic apps (docs/open311.md).
    path("open311/v2/", include("tickets.open311.urls")),
    # The grid workers' phone app: the shell here, each app's pages under it.
    path("m/", include("governance.phone_urls")),
    path("tickets/", include("tickets.urls")),
    path("points/", include("points.urls")),
    path("party/", include("partyorg.urls")),
    path("dashboard/", include("governance.dashboard_urls")),
    path("reports/", include("governance.bulletin_urls")),
    # 以下评上: the residents' survey of their grid workers (governance.survey).
    path("survey/", include("governance.survey_urls")),
    # The milestone photos of a community's public 民生微实事 notice (signed link).
    path(
        "party/projects/notice/<int:community_id>/<str:signature>/photos/"
        "<int:milestone_id>/",
        media.serve_notice_photo,
        name="micro_project_notice_photo",
    ),
    # Uploaded photos, behind login and the record's scope (never a file server).
    path(
        f"{settings.MEDIA_URL.strip('/')}/<path:path>", media.serve_media, name="media"
    ),
]

# A request that failed on our side (the database gone included) gets a clean,
# translated page, never a traceback (governance.views.server_error).
handler500 = "governance.views.server_error"
