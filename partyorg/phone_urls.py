"""Phone pages of the partyorg app, mounted at /m/party/ (namespace m:party)."""

from django.urls import include, path

from . import phone_views

app_name = "party"
urlpatterns = [
    path("wishes/", phone_views.wish_list, name="wish_list"),
    path("wishes/new/", phone_views.wish_new, name="wish_new"),
    path("wishes/<int:wish_id>/", phone_views.wish_detail, name="wish_detail"),
    # Community deliberation (议事协商): topics, steps, votes and ballots.
    path("deliberation/", include("partyorg.deliberation.phone_urls")),
    path("whistles/", include("partyorg.whistle.phone_urls")),
    path("projects/", include("partyorg.microprojects.phone_urls")),
]
