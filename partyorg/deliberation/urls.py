"""URLs of community deliberation, included in the partyorg namespace (/party/)."""

from django.urls import path

from . import views

urlpatterns = [
    path(
        "deliberation/notice/<int:community_id>/<str:signature>/",
        views.notice,
        name="deliberation_notice",
    ),
    path(
        "deliberation/topics/<int:topic_id>/minutes/",
        views.minutes,
        name="topic_minutes",
    ),
]
