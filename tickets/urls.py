"""URLs of the tickets app (public: the resident's evaluation link)."""

from django.urls import path

from . import views

app_name = "tickets"
urlpatterns = [
    path("evaluate/<int:ticket_id>/<str:token>/", views.evaluate, name="evaluate"),
]
