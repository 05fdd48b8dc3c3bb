"""Phone pages of the tickets app, mounted at /m/tickets/ (namespace m:tickets)."""

from django.urls import path

from . import phone_views

app_name = "tickets"
urlpatterns = [
    path("", phone_views.ticket_list, name="list"),
    path("report/", phone_views.report_event, name="report"),
    path("report/categories/", phone_views.report_categories, name="categories"),
    path("report/duplicates/", phone_views.report_duplicates, name="duplicates"),
    path("<int:ticket_id>/", phone_views.ticket_detail, name="detail"),
    path("<int:ticket_id>/<slug:action>/", phone_views.ticket_act, name="act"),
]
