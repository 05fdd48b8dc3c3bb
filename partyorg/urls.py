"""URLs of the partyorg app (mounted at /party/)."""

from django.urls import include, path
from django.views.generic import RedirectView

from . import views

app_name = "partyorg"
urlpatterns = [
    path("coverage/", views.coverage, name="coverage"),
    path("services/", views.service_totals, name="service_totals"),
    # The wish pages moved to the phone app (/m/party/); old links still work.
    path(
        "wishes/",
        RedirectView.as_view(pattern_name="m:party:wish_list", query_string=True),
        name="wish_list",
    ),
    path(
        "wishes/new/",
        RedirectView.as_view(pattern_name="m:party:wish_new"),
        name="wish_new",
    ),
    path(
        "wishes/<int:wish_id>/",
        RedirectView.as_view(pattern_name="m:party:wish_detail"),
        name="wish_detail",
    ),
    # Community deliberation (议事协商): the public notice and printed minutes.
    path("", include("partyorg.deliberation.urls")),
    path("whistles/", include("partyorg.whistle.urls")),
    path("sites/", include("partyorg.sites.urls")),
    path("projects/", include("partyorg.microprojects.urls")),
]
