"""The points app's REST resources under ``/api/v1/points/``: accounts (read),
awards (propose, approve, reject), prizes (create, change, stock, take off the
shelf) and redemptions (redeem, cancel).

Thin: every list starts from the scoped queryset (an object outside the
caller's area is a 404), every write calls ``points.services`` (which checks the
role and the scope again, after its locks), residents' names are masked for
roles that do not visit households.
"""

from django.utils.translation import gettext as _
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from grids.api.views import ApiViewMixin, service_action
from grids.errors import OutOfScope
from grids.masking import mask_name
from grids.models import Region
from grids.permissions import can_see_resident_names

from . import services
from .models import Award, PointsAccount, Prize, Redemption
from .selectors import prize_list


def _resident_name(serializer, resident) -> str:
    if resident is None:
        return ""
    user = serializer.context["request"].user
    return resident.name if can_see_resident_names(user) else mask_name(resident.name)


def _idempotency_key(request) -> str:
    return request.headers.get("Idempotency-Key") or str(
        request.data.get("idempotency_key", "") if hasattr(request.data, "get") else ""
    )


# --- accounts -----------------------------------------------------------------------


class PointsAccountSerializer(serializers.ModelSerializer):
    resident_name = serializers.SerializerMethodField()
    region = serializers.IntegerField(source="household.region_id", read_only=True)

    class Meta:
        model = PointsAccount
        fields = [
            "id",
            "household",
            "region",
            "resident",
            "resident_name",
            "is_pooled",
            "balance",
            "created_at",
        ]
        read_only_fields = fields

    def get_resident_name(self, account) -> str:
        return _resident_name(self, account.resident)


class PointsAccountViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = PointsAccountSerializer
    queryset = PointsAccount.objects.all()
    filterset_fields = ["household", "resident"]

    def get_queryset(self):
        return PointsAccount.objects.visible_to(self.request.user).select_related(
            "household", "resident"
        )


# --- awards -------------------------------------------------------------------------


class AwardSerializer(serializers.ModelSerializer):
    resident_name = serializers.SerializerMethodField()
    rule_item_name = serializers.CharField(source="rule_item.name", read_only=True)

    class Meta:
        model = Award
        fields = [
            "id",
            "resident",
            "resident_name",
            "rule_item",
            "rule_item_name",
            "awarded_on",
            "points",
            "note",
            "status",
            "created_at",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = [
            "id",
            "points",
            "status",
            "created_at",
            "decided_at",
            "decision_note",
        ]

    def get_resident_name(self, award) -> str:
        return _resident_name(self, award.resident)


class AwardProposeSerializer(serializers.Serializer):
    resident = serializers.IntegerField(min_value=1)
    rule_item = serializers.IntegerField(min_value=1)
    awarded_on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default=""
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class AwardViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """``POST`` proposes (积分申报, the ``Idempotency-Key`` header or an
    ``idempotency_key`` field is required: the same key again returns the first
    proposal); ``approve`` and ``reject`` decide (社区审核)."""

    serializer_class = AwardSerializer
    queryset = Award.objects.all()
    filterset_fields = ["status", "resident", "rule_item"]
    service_object_kwarg = "award_id"

    def get_queryset(self):
        return Award.objects.visible_to(self.request.user).select_related(
            "resident", "rule_item"
        )

    def create(self, request, *args, **kwargs):
        data = AwardProposeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        award, created = services.award_propose(
            actor=request.user,
            resident_id=data.validated_data["resident"],
            rule_item_id=data.validated_data["rule_item"],
            awarded_on=data.validated_data["awarded_on"],
            note=data.validated_data.get("note", ""),
            idempotency_key=_idempotency_key(request),
        )
        body = AwardSerializer(award, context=self.get_serializer_context()).data
        return Response(
            body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    approve = service_action("approve", services.award_approve, input=NoteSerializer)
    reject = service_action("reject", services.award_reject, input=ReasonSerializer)


# --- prizes -------------------------------------------------------------------------


class PrizeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Prize
        fields = [
            "id",
            "region",
            "name",
            "description",
            "price",
            "stock",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "stock", "is_active", "created_at"]


class PrizeCreateSerializer(serializers.ModelSerializer):
    # A plain id: the service tells a region outside the caller's area from a
    # missing one no differently (both 404).
    region = serializers.IntegerField(min_value=1)
    stock = serializers.IntegerField(min_value=0, default=0)

    class Meta:
        model = Prize
        fields = ["region", "name", "description", "price", "stock"]


class PrizeChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Prize
        fields = ["name", "description", "price"]
        extra_kwargs = {f: {"required": False} for f in fields}


class StockSerializer(serializers.Serializer):
    delta = serializers.IntegerField()


class PrizeViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Prizes of the caller's area and of the street above it. Writes: street
    and community staff (``points.permissions.can_manage_prizes``); the stock
    moves only by ``stock`` (relative), never by a write of the number."""

    serializer_class = PrizeSerializer
    queryset = Prize.objects.all()
    filterset_fields = ["region", "is_active"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    service_object_kwarg = "prize_id"

    def get_queryset(self):
        return prize_list(actor=self.request.user)

    def create(self, request, *args, **kwargs):
        data = PrizeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        region = Region.objects.filter(pk=fields.pop("region")).first()
        if region is None:
            raise OutOfScope(_("This object does not exist or lies outside your area."))
        prize = services.prize_create(actor=request.user, region=region, **fields)
        return Response(PrizeSerializer(prize).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        prize = self.get_object()
        data = PrizeChangeSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if data.validated_data:
            services.prize_update(
                actor=request.user, prize_id=prize.pk, **data.validated_data
            )
        return Response(PrizeSerializer(self.get_object()).data)

    stock = service_action("stock", services.prize_adjust_stock, input=StockSerializer)
    deactivate = service_action("deactivate", services.prize_deactivate)


# --- redemptions ----------------------------------------------------------------------


class RedemptionSerializer(serializers.ModelSerializer):
    resident_name = serializers.SerializerMethodField()
    prize_name = serializers.CharField(source="prize.name", read_only=True)

    class Meta:
        model = Redemption
        fields = [
            "id",
            "account",
            "resident",
            "resident_name",
            "prize",
            "prize_name",
            "quantity",
            "points",
            "status",
            "created_at",
            "cancelled_at",
            "cancel_reason",
        ]
        read_only_fields = fields

    def get_resident_name(self, redemption) -> str:
        return _resident_name(self, redemption.resident)


class RedeemSerializer(serializers.Serializer):
    resident = serializers.IntegerField(min_value=1)
    prize = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=100, default=1)


class RedemptionViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """``POST`` redeems (兑换; an ``Idempotency-Key`` makes a retry safe);
    ``cancel`` reverses it (撤销兑换) with a reason."""

    serializer_class = RedemptionSerializer
    queryset = Redemption.objects.all()
    filterset_fields = ["status", "resident", "prize"]
    service_object_kwarg = "redemption_id"

    def get_queryset(self):
        return Redemption.objects.visible_to(self.request.user).select_related(
            "resident", "prize"
        )

    def create(self, request, *args, **kwargs):
        data = RedeemSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        redemption = services.redemption_create(
            actor=request.user,
            resident_id=data.validated_data["resident"],
            prize_id=data.validated_data["prize"],
            quantity=data.validated_data["quantity"],
            idempotency_key=_idempotency_key(request),
        )
        body = self.get_serializer(redemption).data
        return Response(body, status=status.HTTP_201_CREATED)

    cancel = service_action(
        "cancel", services.redemption_cancel, input=ReasonSerializer
    )
