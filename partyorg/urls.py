"""URLs of the partyorg app (mounted at /party/)."""

from django.urls import path

from . import views

app_name = "partyorg"
urlpatterns = [
    path("coverage/", views.coverage, name="coverage"),
    path("services/", views.service_totals, name="service_totals"),
    path("wishes/", views.wish_list, name="wish_list"),
    path("wishes/new/", views.wish_new, name="wish_new"),
    path("wishes/<int:wish_id>/", views.wish_detail, name="wish_detail"),
]
