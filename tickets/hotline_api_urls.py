"""The 12345 platform's routes under ``/api/v1/`` (docs/hotline.md)."""

from django.urls import re_path

from .hotline.api import HotlineTicketPushView, HotlineTicketStatusView

app_name = "hotline"

urlpatterns = [
    # With or without the trailing slash: the platform's clients differ.
    re_path(r"^hotline/tickets/?$", HotlineTicketPushView.as_view(), name="push"),
    # The platform reads back a ticket it pushed, by its own number.
    re_path(
        r"^hotline/tickets/(?P<number>[^/]{1,40})/?$",
        HotlineTicketStatusView.as_view(),
        name="status",
    ),
]
