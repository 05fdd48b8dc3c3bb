"""Pages of the service sites, included under /party/sites/."""

from django.urls import path

from . import views

urlpatterns = [
    path("circle/", views.service_circle, name="service_circle"),
    path(
        "circle/<int:community_id>/",
        views.service_circle_map,
        name="service_circle_map",
    ),
]
