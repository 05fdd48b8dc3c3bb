"""Phone pages of the tickets app, mounted at /m/tickets/ (namespace m:tickets)."""

from django.urls import path

from . import phone_field, phone_public, phone_views

app_name = "tickets"
urlpatterns = [
    path("", phone_views.ticket_list, name="list"),
    path("report/", phone_views.report_event, name="report"),
    path("report/categories/", phone_views.report_categories, name="categories"),
    path("report/duplicates/", phone_views.report_duplicates, name="duplicates"),
    # The field pages (phone_field): patrol / visit with an event, a grid's poster.
    path("visit/", phone_field.visit, name="visit"),
    path("poster/<int:grid_id>/", phone_field.poster, name="poster"),
    # The residents' pages (phone_public, no account): 码上办 and tracking.
    path("r/<str:token>/", phone_public.report_public, name="report_public"),
    path("track/<int:ticket_id>/<str:token>/", phone_public.track, name="track"),
    path("<int:ticket_id>/", phone_views.ticket_detail, name="detail"),
    path("<int:ticket_id>/<slug:action>/", phone_views.ticket_act, name="act"),
]
