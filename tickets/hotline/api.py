"""The signed inbound endpoint: ``POST /api/v1/hotline/tickets`` (the platform
pushes a ticket). docs/hotline.md states the protocol.

No session, no token: the platform authenticates by its signature
(``HotlineSignatureAuthentication``) and acts as its own account. A refused
signature is a 401 in the API's error format and a log line (the platform, the
reason, the address; never the body, which holds the caller's phone).
"""

import datetime as dt
import logging

from django.core.exceptions import RequestDataTooBig
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from grids.api.serializers import FieldsBuiltOnceMixin
from grids.errors import DomainError
from grids.prepared import PreparedQuery

from . import selectors, services, signing
from .models import HotlinePlatform

logger = logging.getLogger("tickets.hotline")

REASON_MESSAGES = {
    "missing": gettext_lazy("The request is not signed."),
    "malformed": gettext_lazy("The signature's timestamp is not valid."),
    "old": gettext_lazy("The signature is too old."),
    "future": gettext_lazy("The signature's timestamp lies in the future."),
    "mismatch": gettext_lazy("The signature does not match."),
    "unknown_platform": gettext_lazy("Unknown or disabled platform."),
}


class SignatureRefused(DomainError):
    code = "bad_signature"
    status = 401


def _refuse(request, reason: str, platform_code: str = "") -> SignatureRefused:
    logger.warning(
        "12345 %s refused: platform=%r reason=%s remote=%s",
        "push" if request.method == "POST" else "read",
        platform_code[:40],
        reason,
        request.META.get("REMOTE_ADDR", ""),
    )
    return SignatureRefused(str(REASON_MESSAGES[reason]), extra={"reason": reason})


# The platform of every push, compiled once (grids.prepared).
_ENABLED_PLATFORM = PreparedQuery(
    lambda code: (
        HotlinePlatform.objects.filter(code=code, enabled=True)
        .select_related("account__region", "region", "fallback_region")
        .order_by()[:1]
    ),
    code=str,
)


class HotlineSignatureAuthentication(BaseAuthentication):
    """The platform named by ``X-Hotline-Platform``, when the request carries its
    signature (``tickets.hotline.signing``) within the time window: over the
    body of a push, over ``GET <path>`` of a read. The request's ``user`` is the
    platform's account, ``auth`` the platform."""

    def authenticate(self, request):
        headers = request._request.headers
        code = headers.get(signing.PLATFORM_HEADER, "")
        if not code:
            raise _refuse(request, "missing")
        try:
            signing.check_timestamp(headers.get(signing.TIMESTAMP_HEADER))
        except signing.BadSignature as exc:
            raise _refuse(request, exc.reason, code) from None
        platform = _ENABLED_PLATFORM.first(code=code[:40])
        if platform is None:
            raise _refuse(request, "unknown_platform", code)
        if request.method == "POST":
            try:
                signed = request._request.body
            except RequestDataTooBig:
                raise exceptions.ParseError(_("The request is too large.")) from None
        else:
            # A read has no body: its method and path are signed instead, so a
            # signature cannot be used for another ticket.
            signed = signing.read_message(request.method, request._request.path)
        try:
            signing.verify(
                platform.secret,
                headers[signing.TIMESTAMP_HEADER],
                signed,
                headers.get(signing.SIGNATURE_HEADER),
            )
        except signing.BadSignature as exc:
            raise _refuse(request, exc.reason, code) from None
        return platform.account, platform

    def authenticate_header(self, request):
        return 'HMAC-SHA256 realm="12345"'


class IsHotlinePlatform(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, HotlinePlatform)


class HotlinePushSerializer(FieldsBuiltOnceMixin, serializers.Serializer):
    """The platform's ticket (docs/hotline.md, "Payload"); unknown keys are
    ignored."""

    number = serializers.CharField(max_length=40)
    received_at = serializers.DateTimeField()
    content = serializers.CharField(max_length=4000)
    caller_name = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default=""
    )
    caller_phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default=""
    )
    address = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    area_code = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default=""
    )
    category_code = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default=""
    )
    deadline = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_received_at(self, value):
        limit = timezone.now() + dt.timedelta(seconds=signing.window_seconds())
        if value > limit:
            raise serializers.ValidationError(_("The time lies in the future."))
        return value


class HotlinePushAnswerSerializer(serializers.Serializer):
    """The answer to a push (the same body again for a replay)."""

    hotline_number = serializers.CharField()
    ticket_id = serializers.IntegerField()
    ticket_number = serializers.CharField()
    stage = serializers.CharField()
    received_at = serializers.DateTimeField()
    flags = serializers.ListField(child=serializers.CharField())


class HotlineSignatureScheme(OpenApiAuthenticationExtension):
    target_class = HotlineSignatureAuthentication
    name = "hotlineSignature"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": signing.SIGNATURE_HEADER,
            "description": "sha256=HMAC-SHA256(secret, X-Hotline-Timestamp + '.' "
            "+ body), with X-Hotline-Platform and X-Hotline-Timestamp "
            "(docs/hotline.md).",
        }


class HotlineTicketPushView(APIView):
    """Receive one ticket: 201 with the ticket the first time, 200 with the same
    body for a replay of the same content, 409 for other content under the
    same number, 404 for a number of another platform's area."""

    authentication_classes = [HotlineSignatureAuthentication]
    permission_classes = [IsHotlinePlatform]
    parser_classes = [JSONParser]
    throttle_classes = []
    # The platform's ticket number is the idempotency key: a replay answers the
    # first push's body (HotlineInbound), other content under it is a 409.
    idempotency_exempt = "idempotent by the platform's hotline number"

    @extend_schema(
        operation_id="hotline_ticket_push",
        request=HotlinePushSerializer,
        responses={201: HotlinePushAnswerSerializer, 200: HotlinePushAnswerSerializer},
        description="A 12345 platform pushes a ticket (docs/hotline.md): 201 new, "
        "200 replay (same body), 400 invalid, 401 bad_signature, 404 "
        "hotline_number_elsewhere / out_of_scope, 409 hotline_number_conflict.",
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            raise exceptions.ParseError(_("The body must be a JSON object."))
        serializer = HotlinePushSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        inbound, created = services.hotline_ticket_receive(
            platform=request.auth,
            push=services.HotlinePush(**serializer.validated_data),
        )
        return Response(
            inbound.response,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class HotlineTicketStatusSerializer(serializers.Serializer):
    """A pushed ticket's current state (docs/hotline.md, "Reading a ticket
    back"): the callbacks' terms, no personal data."""

    hotline_number = serializers.CharField()
    ticket_number = serializers.CharField()
    stage = serializers.CharField()
    final = serializers.BooleanField()
    sequence = serializers.IntegerField(allow_null=True)
    received_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    stage_deadline = serializers.DateTimeField(allow_null=True)
    result = serializers.CharField(allow_blank=True)
    verdict = serializers.CharField(allow_blank=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    flags = serializers.ListField(child=serializers.CharField())


class HotlineTicketStatusView(APIView):
    """The platform reads back the stage and result of a ticket it pushed, by its
    own number: signed like a push (over ``GET <path>``), and only its own
    numbers (another platform's, or an unknown one, is the same 404)."""

    authentication_classes = [HotlineSignatureAuthentication]
    permission_classes = [IsHotlinePlatform]
    throttle_classes = []
    idempotency_exempt = "a read (GET only)"

    @extend_schema(
        operation_id="hotline_ticket_status",
        responses={200: HotlineTicketStatusSerializer},
        description="A 12345 platform reads back a ticket it pushed, by its "
        "number (docs/hotline.md): 200 the state, 401 bad_signature (signed "
        "over 'GET ' + path), 404 not_found (not this platform's number).",
    )
    def get(self, request, number):
        found = selectors.hotline_ticket_status(platform=request.auth, number=number)
        if found is None:
            raise exceptions.NotFound(_("No ticket of yours has this number."))
        return Response(found)
