"""URLs of the points app (mounted at /points/)."""

from django.urls import path

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
    path("propose/", views.award_propose, name="propose"),
]
