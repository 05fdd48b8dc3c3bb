"""The tickets resource of ``/api/v1/``: list (the shared ``TicketFilterSet``),
detail, intake (``POST /tickets/``), the event log of a ticket, and one
endpoint per staff action of ``tickets.actions`` (``POST
/tickets/{id}/accept/`` …), which validates with that action's form and calls
its service, exactly as the admin and the phone pages do.

Scope: every ticket is looked up through ``Ticket.objects.visible_to`` (the
selectors); another area's ticket is a 404. Personal data of the reporter is
shown masked.
"""

from django import forms as django_forms
from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from grids.api.pagination import StableCursorPagination
from grids.api.serializers import FieldsBuiltOnceMixin, ScopedRegionField
from grids.api.views import ApiViewMixin
from grids.params import parse_id

from . import actions, selectors, services
from .choices import Source
from .filters import TicketFilterSet
from .models import Category, Ticket, TicketEvent, TicketPhoto


class TicketPhotoSerializer(serializers.ModelSerializer):
    """A photo of the ticket: its ``url`` is the scoped media view (``/media/…``,
    ``governance.media``), which checks the reader's area again and answers to
    the same session or API token; never a storage path. The location the phone
    wrote is not shown."""

    url = serializers.SerializerMethodField()

    class Meta:
        model = TicketPhoto
        fields = ["id", "event", "uploaded_at", "url"]

    def get_url(self, photo) -> str:
        url = reverse("media", kwargs={"path": photo.image.name})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class TicketSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    reporter_name = serializers.CharField(source="masked_reporter_name", read_only=True)
    reporter_phone = serializers.CharField(
        source="masked_reporter_phone", read_only=True
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "source",
            "hotline_number",
            "stage",
            "category",
            "region",
            "address",
            "latitude",
            "longitude",
            "reporter_name",
            "reporter_phone",
            "description",
            "received_at",
            "responsible_leader",
            "handling_region",
            "handling_department",
            "handler",
            "stage_deadline",
            "escalation_level",
            "verdict",
            "closed_at",
            "updated_at",
        ]
        read_only_fields = fields


class TicketDetailSerializer(TicketSerializer):
    available_actions = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [
            *TicketSerializer.Meta.fields,
            "instructions",
            "cause",
            "crux",
            "measures",
            "result",
            "photos",
            "available_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(TicketPhotoSerializer(many=True))
    def get_photos(self, ticket) -> list:
        if self.context.get("no_photos"):
            return []  # a ticket just received without any (no read needed)
        return TicketPhotoSerializer(
            ticket.photos.all(), many=True, context=self.context
        ).data

    def get_available_actions(self, ticket) -> list[str]:
        user = self.context["request"].user
        return [spec.action for spec in actions.available(user, ticket)]


class TicketCreateSerializer(FieldsBuiltOnceMixin, serializers.Serializer):
    """受理 through the API: the input of ``services.ticket_create``. The place
    must lie in the caller's area, the category be active; the service checks
    the role, the scope again and a 12345 number's replay or clash."""

    source = serializers.ChoiceField(choices=Source.choices)
    hotline_number = serializers.CharField(
        max_length=40, required=False, allow_blank=True
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )
    region = ScopedRegionField()
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    latitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
        required=False,
        allow_null=True,
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        required=False,
        allow_null=True,
    )
    reporter_name = serializers.CharField(
        max_length=50, required=False, allow_blank=True
    )
    reporter_phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True
    )
    description = serializers.CharField(max_length=5000)
    # Multipart only: each checked by content in the service (type, size,
    # pixels) and stored re-encoded, without EXIF.
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        max_length=settings.DATA_UPLOAD_MAX_NUMBER_FILES,
    )


class TicketEventSerializer(serializers.ModelSerializer):
    """One line of the log. The event's ``data`` is not shown: a 12345 push
    keeps the reporter's name and phone there."""

    actor = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()

    class Meta:
        model = TicketEvent
        fields = [
            "id",
            "action",
            "actor",
            "at",
            "from_stage",
            "to_stage",
            "note",
            "deadline",
            "photos",
        ]

    def get_actor(self, event) -> str:
        return str(event.actor) if event.actor_id else event.actor_label

    def get_photos(self, event) -> list[int]:
        return [photo.pk for photo in event.photos.all()]


# --- The action endpoints' request bodies, derived from the action forms --------


def _serializer_field(field):
    """The OpenAPI shape of one form field (the form still validates)."""
    common = {"required": field.required, "help_text": str(field.label or "")}
    if isinstance(field, django_forms.ModelChoiceField):
        return serializers.IntegerField(**common)
    if isinstance(field, django_forms.FileField):
        return None  # photos: multipart uploads, not part of the JSON body
    if isinstance(field, django_forms.ChoiceField):
        choices = [value for value, _label in field.choices if value != ""]
        if choices and all(isinstance(v, str) for v in choices):
            return serializers.ChoiceField(choices=choices, **common)
        return serializers.CharField(allow_blank=not field.required, **common)
    if isinstance(field, django_forms.IntegerField):
        return serializers.IntegerField(
            min_value=field.min_value, max_value=field.max_value, **common
        )
    return serializers.CharField(
        max_length=getattr(field, "max_length", None),
        allow_blank=not field.required,
        **common,
    )


def _form_fields(spec):
    """The fields the action's form shows a user who may do everything."""
    from grids.models import User

    user = User(is_superuser=True, is_active=True)
    for ticket in (Ticket(), None):  # some need a ticket, others none or a saved one
        try:
            return spec.form_class(user=user, ticket=ticket).fields
        except Exception:
            continue
    return spec.form_class.base_fields


def _action_serializer(spec, *, multipart=False):
    fields = {}
    for name, field in _form_fields(spec).items():
        shaped = _serializer_field(field)
        if shaped is None and multipart:
            # Photos (做单): several files under one name, each checked by
            # content in the service.
            shaped = serializers.ListField(
                child=serializers.FileField(),
                required=False,
                help_text=str(field.label or ""),
            )
        if shaped is not None:
            fields[name] = shaped
    name = "Ticket" + spec.action.title().replace("_", "") + "Action"
    if multipart:
        name += "Upload"
    return type(name, (serializers.Serializer,), fields)


def _action_request(spec):
    """The action's request bodies: JSON, and multipart when its form takes
    files."""
    fields = _form_fields(spec).values()
    if not any(isinstance(f, django_forms.FileField) for f in fields):
        return _action_serializer(spec)
    return {
        "application/json": _action_serializer(spec),
        "multipart/form-data": _action_serializer(spec, multipart=True),
    }


def _form_data(request):
    data = request.data
    if isinstance(data, QueryDict):
        return data
    if not isinstance(data, dict):
        raise exceptions.ValidationError(
            {"non_field_errors": [_("Send a JSON object.")]}
        )
    return {key: _form_value(value) for key, value in data.items()}


def _form_value(value):
    if value is None:
        return ""
    if isinstance(value, list):
        return [_form_value(v) for v in value]
    return value if isinstance(value, int | str) else str(value)


class TicketCursorPagination(StableCursorPagination):
    """The lists' own order, newest received first, with the plan that suits
    the caller's scope (``selectors.newest_first``): a large scope walks the
    ``(received_at DESC, id DESC)`` index (docs/architecture.md, Ticket
    indexes), so a page reads about 50 ÷ (the scope's share) rows; a small one
    (a community, a grid, a street filtered by stage) is sorted by
    ``selectors.newest_first_key``, annotated under its own name so that the
    cursor reads its position from it and filters by it. Same order either way."""

    ordering = ("-received_at", "-pk")

    def paginate_queryset(self, queryset, request, view=None):
        key = selectors.newest_first_key(request.user, request.query_params)
        if key is not None:
            queryset = queryset.annotate(received_sorted=key)
            self.ordering = ("-received_sorted", "-pk")
        return super().paginate_queryset(queryset, request, view)


class TicketViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Tickets in the caller's area (and those handed to them)."""

    queryset = Ticket.objects.none()  # the model; rows come from get_queryset
    filterset_class = TicketFilterSet
    pagination_class = TicketCursorPagination
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return selectors.ticket_list(actor=self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return TicketCreateSerializer
        if self.action == "retrieve":
            return TicketDetailSerializer
        return TicketSerializer

    def get_object(self):
        pk = parse_id(self.kwargs.get("pk"))
        if pk is None:
            raise exceptions.NotFound()
        return selectors.ticket_detail(actor=self.request.user, ticket_id=pk)

    @extend_schema(
        request={
            "application/json": TicketCreateSerializer,
            "multipart/form-data": TicketCreateSerializer,
        },
        responses={201: TicketDetailSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = TicketCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        # The service's own ticket (checked in scope, or the replayed one of a
        # 12345 number): no second read.
        ticket = services.ticket_create(actor=request.user, **data.validated_data)
        # Without a 12345 number the ticket is a new one, and without uploads it
        # has no photos: no read to say so. A replayed 12345 ticket may have some.
        no_photos = not data.validated_data.get(
            "photos"
        ) and not data.validated_data.get("hotline_number")
        context = {"request": request, "no_photos": no_photos}
        return Response(
            TicketDetailSerializer(ticket, context=context).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses=TicketEventSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def events(self, request, pk=None):
        ticket = self.get_object()
        return Response(
            TicketEventSerializer(
                selectors.ticket_timeline(ticket=ticket), many=True
            ).data
        )

    def run_action(self, request, name):
        ticket = self.get_object()
        form = actions.form_for(
            name,
            user=request.user,
            ticket=ticket,
            data=_form_data(request),
            files=request.FILES or None,
        )
        if not form.is_valid():
            raise exceptions.ValidationError(
                {
                    field: [error["message"] for error in errors]
                    for field, errors in form.errors.get_json_data().items()
                }
            )
        actions.run(
            name, actor=request.user, ticket_id=ticket.pk, data=form.cleaned_data
        )
        ticket = selectors.ticket_detail(actor=request.user, ticket_id=ticket.pk)
        return Response(
            TicketDetailSerializer(ticket, context={"request": request}).data
        )


def _add_action_endpoint(spec) -> None:
    def endpoint(self, request, pk=None):
        return self.run_action(request, spec.action)

    endpoint.__name__ = f"action_{spec.action}"
    endpoint = action(
        detail=True,
        methods=["post"],
        url_path=spec.action.replace("_", "-"),
        url_name=spec.action.replace("_", "-"),
        filter_backends=[],
        pagination_class=None,
    )(endpoint)
    endpoint = extend_schema(
        request=_action_request(spec),
        responses=TicketDetailSerializer,
        summary=spec.label,
        description=spec.label,
        operation_id=f"tickets_{spec.action}",
    )(endpoint)
    setattr(TicketViewSet, endpoint.__name__, endpoint)


# One endpoint per action of the registry: none is listed again here.
for _spec in actions.SPECS.values():
    _add_action_endpoint(_spec)
