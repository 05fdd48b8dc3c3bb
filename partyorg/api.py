"""The partyorg app's REST resources under ``/api/v1/party/``: organisations,
members, and micro-wishes (微心愿) with each step of their life as an action
(claim, release, fulfil, confirm, reject, withdraw, cancel).

Thin: lists start from the scoped querysets (outside the caller's area → 404),
every write calls ``partyorg.services``, which checks role, scope and state
again under its own locks. Members' phones leave masked.
"""

from django.utils.translation import gettext as _
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from grids.api.views import ApiViewMixin, service_action
from grids.errors import OutOfScope
from grids.masking import mask_phone
from grids.models import Region

from . import services
from .models import PartyMember, PartyOrg, Wish
from .selectors import member_list, wish_list


def _row(model, pk):
    """The row named by an id from a request body; a missing one is refused like
    one outside the caller's area (the service checks the area)."""
    if pk is None:
        return None
    found = model._default_manager.filter(pk=pk).first()
    if found is None:
        raise OutOfScope(_("This object does not exist or lies outside your area."))
    return found


# --- organisations ------------------------------------------------------------------


class PartyOrgSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartyOrg
        fields = [
            "id",
            "parent",
            "name",
            "org_type",
            "region",
            "secretary",
            "is_active",
            "created_at",
        ]
        read_only_fields = fields


class PartyOrgCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    org_type = serializers.ChoiceField(
        choices=PartyOrg._meta.get_field("org_type").choices
    )
    region = serializers.IntegerField(min_value=1)
    parent = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    secretary = serializers.CharField(max_length=50, required=False, allow_blank=True)


class PartyOrgChangeSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    secretary = serializers.CharField(max_length=50, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class PartyOrgViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = PartyOrgSerializer
    queryset = PartyOrg.objects.all()
    filterset_fields = ["org_type", "region", "parent", "is_active"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return PartyOrg.objects.visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        data = PartyOrgCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        org = services.party_org_create(
            actor=request.user,
            region=_row(Region, fields.pop("region")),
            parent=_row(PartyOrg, fields.pop("parent", None)),
            **fields,
        )
        return Response(PartyOrgSerializer(org).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        org = self.get_object()
        data = PartyOrgChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data:
            services.party_org_update(
                actor=request.user, org_id=org.pk, **data.validated_data
            )
        return Response(PartyOrgSerializer(self.get_object()).data)


# --- members ------------------------------------------------------------------------


class PartyMemberSerializer(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField()

    class Meta:
        model = PartyMember
        fields = [
            "id",
            "name",
            "phone",
            "organisation",
            "is_active",
            "is_in_service",
            "employer",
            "is_grid_head",
            "is_building_head",
            "is_unit_head",
        ]
        read_only_fields = fields

    def get_phone(self, member) -> str:
        return mask_phone(member.phone)


class PartyMemberCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    phone = serializers.CharField(max_length=20)
    organisation = serializers.IntegerField(
        min_value=1, required=False, allow_null=True
    )
    community = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    is_in_service = serializers.BooleanField(default=False)
    employer = serializers.CharField(max_length=100, required=False, allow_blank=True)


class PartyMemberChangeSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, required=False)
    phone = serializers.CharField(max_length=20, required=False)
    is_active = serializers.BooleanField(required=False)
    employer = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_grid_head = serializers.BooleanField(required=False)
    is_building_head = serializers.BooleanField(required=False)
    is_unit_head = serializers.BooleanField(required=False)


class PartyMemberViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = PartyMemberSerializer
    queryset = PartyMember.objects.all()
    filterset_fields = ["organisation", "is_active", "is_in_service"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return member_list(actor=self.request.user)

    def create(self, request, *args, **kwargs):
        data = PartyMemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        member = services.party_member_create(
            actor=request.user,
            organisation=_row(PartyOrg, fields.pop("organisation", None)),
            community=_row(Region, fields.pop("community", None)),
            **fields,
        )
        return Response(
            PartyMemberSerializer(member).data, status=status.HTTP_201_CREATED
        )

    def update(self, request, *args, **kwargs):
        member = self.get_object()
        data = PartyMemberChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data:
            services.party_member_update(
                actor=request.user, member_id=member.pk, **data.validated_data
            )
        return Response(PartyMemberSerializer(self.get_object()).data)


# --- wishes -------------------------------------------------------------------------


class WishSerializer(serializers.ModelSerializer):
    class Meta:
        model = Wish
        fields = [
            "id",
            "region",
            "community",
            "title",
            "beneficiary",
            "resident",
            "estimated_value",
            "state",
            "posted_at",
            "claimed_by",
            "claimed_at",
        ]
        read_only_fields = fields


class WishPostSerializer(serializers.Serializer):
    region = serializers.IntegerField(min_value=1)
    title = serializers.CharField(max_length=200)
    beneficiary = serializers.CharField(max_length=100)
    estimated_value = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class WishNoteSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, default=""
    )


class WishClaimSerializer(WishNoteSerializer):
    member = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class WishFulfilSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000)
    photo = serializers.ImageField()


class WishViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """群众点单、社区派单、党员接单: ``POST`` posts a wish; each action takes the
    wish one step (``partyorg.choices.WISH_TRANSITIONS``)."""

    serializer_class = WishSerializer
    queryset = Wish.objects.all()
    filterset_fields = ["state", "region", "community"]
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    service_object_kwarg = "wish_id"

    def get_queryset(self):
        return wish_list(actor=self.request.user)

    def create(self, request, *args, **kwargs):
        data = WishPostSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        wish = services.wish_post(
            actor=request.user, region=_row(Region, fields.pop("region")), **fields
        )
        return Response(WishSerializer(wish).data, status=status.HTTP_201_CREATED)

    claim = service_action(
        "claim",
        services.wish_claim,
        input=WishClaimSerializer,
        prepare=lambda values: {
            **values,
            "member": _row(PartyMember, values.get("member")),
        },
    )
    release = service_action("release", services.wish_release, input=WishNoteSerializer)
    fulfil = service_action("fulfil", services.wish_fulfil, input=WishFulfilSerializer)
    confirm = service_action("confirm", services.wish_confirm, input=WishNoteSerializer)
    reject = service_action("reject", services.wish_reject, input=WishNoteSerializer)
    withdraw = service_action(
        "withdraw", services.wish_withdraw, input=WishNoteSerializer
    )
    cancel = service_action("cancel", services.wish_cancel, input=WishNoteSerializer)
