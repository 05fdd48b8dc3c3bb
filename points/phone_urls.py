"""Phone pages of the points app, mounted at /m/points/ (namespace m:points)."""

from django.urls import path

from . import phone_views

app_name = "points"
urlpatterns = [
    path("propose/", phone_views.award_propose, name="propose"),
    path("residents/", phone_views.resident_search, name="resident_search"),
]
