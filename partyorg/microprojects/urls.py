"""Pages of 民生微实事, included under /party/projects/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.micro_project_results, name="micro_project_results"),
    path(
        "notice/<int:community_id>/<str:signature>/",
        views.notice,
        name="micro_project_notice",
    ),
]
