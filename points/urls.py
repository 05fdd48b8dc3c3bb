"""URLs of the points app."""

from django.urls import path  # noqa: F401

app_name = "points"
urlpatterns = []
