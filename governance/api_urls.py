"""``/api/v1/``: each app's API routes, mounted here (apps never import
governance). The OpenAPI schema and its docs live at ``/api/schema/`` and
``/api/docs/`` (root urls)."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("grids.api_urls")),
    path("", include("tickets.api_urls")),
    path("points/", include("points.api_urls")),
    path("party/", include("partyorg.api_urls")),
    path("", include("governance.api_ratings_urls")),
]
