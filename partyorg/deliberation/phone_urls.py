"""Phone pages of community deliberation, included in m:party (/m/party/)."""

from django.urls import path

from . import phone_views

urlpatterns = [
    path("topics/", phone_views.topic_list, name="topic_list"),
    path("topics/new/", phone_views.topic_new, name="topic_new"),
    path(
        "topics/from-ticket/",
        phone_views.topic_from_ticket_find,
        name="topic_from_ticket_find",
    ),
    path(
        "topics/from-ticket/<int:ticket_id>/",
        phone_views.topic_from_ticket,
        name="topic_from_ticket",
    ),
    path("topics/<int:topic_id>/", phone_views.topic_detail, name="topic_detail"),
    path("ballots/", phone_views.ballot_list, name="ballot_list"),
    path("ballots/<int:ballot_id>/", phone_views.ballot_detail, name="ballot_detail"),
]
