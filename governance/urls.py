"""Root URLs: the admin, the apps' pages, i18n switching."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Gridwork"

urlpatterns = [
    path(
        "",
        RedirectView.as_view(pattern_name="admin:index", permanent=False),
        name="home",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("tickets/", include("tickets.urls")),
    path("points/", include("points.urls")),
    path("party/", include("partyorg.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
