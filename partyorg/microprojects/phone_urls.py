"""Phone pages of 民生微实事, included under /m/party/projects/."""

from django.urls import path

from . import phone_views

urlpatterns = [
    path("", phone_views.project_list, name="project_list"),
    path("new/", phone_views.project_new, name="project_new"),
    path("<int:project_id>/", phone_views.project_detail, name="project_detail"),
]
