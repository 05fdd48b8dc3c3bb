"""URLs of the partyorg app."""

from django.urls import path  # noqa: F401

app_name = "partyorg"
urlpatterns = []
