"""URLs of the points app (mounted at /points/)."""

from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "points"
urlpatterns = [
    path("statement/<str:token>/", views.statement, name="statement"),
    path("rankings/<int:community_id>/", views.rankings, name="rankings"),
    path(
        "rankings/<int:community_id>/<str:signature>/",
        views.rankings_public,
        name="rankings_public",
    ),
    # Moved to the phone app (/m/points/propose/); old links still work.
    path(
        "propose/",
        RedirectView.as_view(pattern_name="m:points:propose"),
        name="propose",
    ),
]
