"""Phone pages of the grids app, mounted at /m/grid/ (namespace m:grid): the
inbox here; the field pages (patrol, visits, household card, building view)
join this module."""

from django.urls import path

from . import phone_field, phone_views

app_name = "grid"
urlpatterns = [
    path("inbox/", phone_views.inbox, name="inbox"),
    path("inbox/read/", phone_views.inbox_mark_read, name="inbox_mark_read"),
    path(
        "inbox/<int:notification_id>/open/",
        phone_views.inbox_open,
        name="inbox_open",
    ),
    # The field pages (phone_field): households, their file, the building view.
    path("households/", phone_field.household_find, name="household_find"),
    path(
        "households/<int:household_id>/",
        phone_field.household_card,
        name="household_card",
    ),
    path("buildings/", phone_field.building_list, name="building_list"),
    path(
        "buildings/<int:building_id>/",
        phone_field.building_plan,
        name="building_plan",
    ),
]
