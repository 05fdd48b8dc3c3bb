"""Staff pages of 吹哨报到, included under /party/whistles/."""

from django.urls import path

from . import views

urlpatterns = [
    path(
        "attendance/",
        views.department_attendance,
        name="whistle_department_attendance",
    ),
]
