"""``/api/v1/``: each app's API routes, mounted here (apps never import
governance). The OpenAPI schema and its docs live at ``/api/schema/`` and
``/api/docs/`` (root urls)."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    # path("", include("grids.api_urls")),  # one line per app with an API
    path("", include("tickets.hotline_api_urls")),
]
