"""Pages of 民生微实事, included under /party/projects/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.micro_project_results, name="micro_project_results"),
]
