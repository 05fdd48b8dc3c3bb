"""Phone pages of 吹哨报到, included under /m/party/whistles/."""

from django.urls import path

from . import phone_views

urlpatterns = [
    path("", phone_views.whistle_list, name="whistle_list"),
    path("new/", phone_views.whistle_new, name="whistle_new"),
    path("<int:whistle_id>/", phone_views.whistle_detail, name="whistle_detail"),
]
