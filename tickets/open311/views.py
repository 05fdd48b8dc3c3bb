"""The GeoReport v2 endpoints. Thin: parse the spec's parameters, call a
selector or a service, answer in the format the path ends with. Anonymous and
rate-limited per client address; ``POST requests`` needs an ``api_key``.
Errors are the spec's list of ``{code, description}`` with the HTTP status.
"""

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from grids.errors import DomainError

from . import formats, selectors, services

# Domain refusals whose HTTP status differs from the error class's own.
STATUS_BY_CODE = {"rate_limited": status.HTTP_429_TOO_MANY_REQUESTS}


def jurisdiction_id() -> str:
    return getattr(settings, "OPEN311_JURISDICTION_ID", "gridwork")


def _message(detail) -> str:
    while isinstance(detail, (list, dict)) and detail:
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return str(detail)


def open311_exception_handler(exc, context):
    """Any refusal as the spec's error list; ``None`` (a real bug) otherwise."""
    headers = {}
    if isinstance(exc, DomainError):
        code, message = STATUS_BY_CODE.get(exc.code, exc.status), exc.message
    elif isinstance(exc, Http404):
        code, message = status.HTTP_404_NOT_FOUND, _("Not found.")
    elif isinstance(exc, exceptions.APIException):
        code, message = exc.status_code, _message(exc.detail)
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait))
    else:
        return None
    return Response(formats.error_data(code, message), status=code, headers=headers)


class Open311Throttle(SimpleRateThrottle):
    """Every Open311 call counts against its client address (Django's cache:
    Redis in production)."""

    scope = "open311"

    def get_rate(self):
        return getattr(settings, "OPEN311_THROTTLE_RATE", "120/min")

    def get_cache_key(self, request, view):
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }


class Open311View(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [formats.Open311JSONRenderer, formats.Open311XMLRenderer]
    parser_classes = [FormParser, MultiPartParser, JSONParser]
    throttle_classes = [Open311Throttle]
    xml_root = "response"

    def get_exception_handler(self):
        return open311_exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # One jurisdiction per server: the parameter may be left out, and any
        # other value names a jurisdiction we do not serve.
        given = self.param("jurisdiction_id")
        if given and given != jurisdiction_id():
            raise DomainError(_("jurisdiction_id was not found."), status=404)

    def param(self, name: str) -> str:
        """A parameter from the query string or, for a POST, the body."""
        value = self.request.query_params.get(name)
        if value is None and self.request.method == "POST":
            data = self.request.data
            value = data.get(name) if hasattr(data, "get") else None
        if value is not None and not isinstance(value, str):
            value = str(value)
        return (value or "")[:2000]


class DiscoveryView(Open311View):
    xml_root = "discovery"

    def get(self, request, format=None):
        url = request.build_absolute_uri(request.path.rsplit("/", 1)[0] + "/")
        changeset = getattr(settings, "OPEN311_CHANGESET", "2026-12-06T00:00:00Z")
        return Response(
            {
                "changeset": changeset,
                "contact": getattr(settings, "OPEN311_CONTACT", ""),
                "key_service": getattr(settings, "OPEN311_KEY_SERVICE", ""),
                "endpoints": [
                    {
                        "specification": formats.SPECIFICATION,
                        "url": url,
                        "changeset": changeset,
                        "type": "production",
                        "formats": formats.FORMATS,
                    }
                ],
            }
        )


class ServicesView(Open311View):
    xml_root = "services"

    def get(self, request, format=None):
        return Response(
            [
                formats.service_data(category, group)
                for category, group in selectors.open311_services()
            ]
        )


class ServiceDefinitionView(Open311View):
    xml_root = "service_definition"

    def get(self, request, service_code, format=None):
        category = selectors.open311_service(service_code=service_code)
        if category is None:
            raise DomainError(_("service_code was not found."), status=404)
        return Response(formats.service_definition_data(category))


class RequestsView(Open311View):
    xml_root = "service_requests"

    def get(self, request, format=None):
        found = selectors.open311_requests(
            service_request_id=self.param("service_request_id"),
            service_code=self.param("service_code"),
            start_date=self.param("start_date"),
            end_date=self.param("end_date"),
            status=self.param("status"),
        )
        return Response([formats.request_data(item) for item in found])

    def post(self, request, format=None):
        client = services.open311_client_for_key(api_key=self.param("api_key"))
        if not self.param("service_code"):
            raise DomainError(_("service_code was not provided."))
        created = services.open311_request_create(
            client=client,
            service_code=self.param("service_code"),
            description=self.param("description"),
            phone=self.param("phone"),
            lat=self.param("lat") or None,
            long=self.param("long") or None,
            address_string=self.param("address_string"),
            address_id=self.param("address_id"),
            client_ip=get_client_ip_address(request) or "",
            media_url=self.param("media_url"),
            photos=request.FILES.getlist("media"),
        )
        return Response([formats.created_data(created)], status=status.HTTP_201_CREATED)


class RequestView(Open311View):
    xml_root = "service_requests"

    def get(self, request, service_request_id, format=None):
        found = selectors.open311_request(service_request_id=service_request_id)
        if found is None:
            raise DomainError(_("service_request_id was not found."), status=404)
        return Response([formats.request_data(found)])


class TokenView(Open311View):
    xml_root = "service_requests"

    def get(self, request, token, format=None):
        found = selectors.open311_request_by_token(token=token)
        if found is None:
            raise DomainError(_("token was not found."), status=404)
        return Response([formats.token_data(found)])
