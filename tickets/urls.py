"""URLs of the tickets app: the resident's evaluation link (public) and sending
it by SMS (staff)."""

from django.urls import path

from . import views

app_name = "tickets"
urlpatterns = [
    path("evaluate/<int:ticket_id>/<str:token>/", views.evaluate, name="evaluate"),
    path(
        "<int:ticket_id>/evaluation-link/send/",
        views.evaluation_link_send,
        name="evaluation_link_send",
    ),
]
