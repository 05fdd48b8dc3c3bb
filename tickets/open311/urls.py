"""``/open311/v2/``: each resource in the two formats, by the path's ending."""

from django.urls import re_path

from . import views

app_name = "open311"

FMT = r"\.(?P<format>json|xml)$"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.DiscoveryView.as_view(), name="discovery"),
    re_path(r"^services" + FMT, views.ServicesView.as_view(), name="services"),
    re_path(
        r"^services/(?P<service_code>[-\w]{1,50})" + FMT,
        views.ServiceDefinitionView.as_view(),
        name="service",
    ),
    re_path(r"^requests" + FMT, views.RequestsView.as_view(), name="requests"),
    re_path(
        r"^requests/(?P<service_request_id>[-\w]{1,20})" + FMT,
        views.RequestView.as_view(),
        name="request",
    ),
    re_path(
        r"^tokens/(?P<token>[-\w]{1,64})" + FMT,
        views.TokenView.as_view(),
        name="token",
    ),
]
