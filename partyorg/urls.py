"""URLs of the partyorg app (mounted at /party/)."""

from django.urls import path

from . import views

app_name = "partyorg"
urlpatterns = [
    path("coverage/", views.coverage, name="coverage"),
    path("services/", views.service_totals, name="service_totals"),
]
