"""The grids resources of ``/api/v1/``: regions (the tree, ``?subtree=``), grid
workers and their stints, households and residents (masked; a logged reveal),
patrols (read and record), the caller's own notifications.

Every queryset starts from the grids scope rule (``visible_to`` /
``grids.selectors``): an object outside the caller's area is a 404. Writes go
through ``grids.services``.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from grids import selectors, services
from grids.filters import (
    GridAssignmentFilterSet,
    HouseholdFilterSet,
    PatrolFilterSet,
    RegionFilterSet,
    ResidentFilterSet,
)
from grids.models import (
    GridAssignment,
    GridWorker,
    Household,
    Notification,
    Patrol,
    Region,
    Resident,
)
from grids.notifications import notification_open

from . import serializers
from .views import ApiViewMixin


class _ReadOnly(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = "[0-9]{1,18}"


class RegionViewSet(_ReadOnly):
    """The Region tree in the caller's area; ``?subtree=<id>`` narrows to a node
    and everything under it, ``?level=`` to levels."""

    # The model, for the schema and the scope walk; rows come from get_queryset.
    queryset = Region.objects.none()

    serializer_class = serializers.RegionSerializer
    filterset_class = RegionFilterSet

    def get_queryset(self):
        return selectors.region_list(actor=self.request.user)


class GridWorkerViewSet(_ReadOnly):
    """Workers on the roster of the caller's area (phones masked)."""

    # The model, for the schema and the scope walk; rows come from get_queryset.
    queryset = GridWorker.objects.none()

    serializer_class = serializers.GridWorkerSerializer

    def get_queryset(self):
        return GridWorker.objects.visible_to(self.request.user)


class GridAssignmentViewSet(_ReadOnly):
    """Stints of workers on grids in the caller's area, current and past."""

    # The model, for the schema and the scope walk; rows come from get_queryset.
    queryset = GridAssignment.objects.none()

    serializer_class = serializers.GridAssignmentSerializer
    filterset_class = GridAssignmentFilterSet

    def get_queryset(self):
        return GridAssignment.objects.visible_to(self.request.user).select_related(
            "worker"
        )


class HouseholdViewSet(_ReadOnly):
    # The model, for the schema and the scope walk; rows come from get_queryset.
    queryset = Household.objects.none()
    serializer_class = serializers.HouseholdSerializer
    filterset_class = HouseholdFilterSet

    def get_queryset(self):
        return selectors.household_list(actor=self.request.user)


class ResidentViewSet(_ReadOnly):
    """Residents with personal data masked. ``POST …/reveal/`` shows one
    resident's whole ID-card number or phone to a role that may, with a reason,
    written to the access log."""

    # The model, for the schema and the scope walk; rows come from get_queryset.
    queryset = Resident.objects.none()

    serializer_class = serializers.ResidentSerializer
    filterset_class = ResidentFilterSet

    def get_queryset(self):
        return selectors.resident_list(actor=self.request.user)

    @extend_schema(
        request=serializers.RevealSerializer,
        responses=serializers.RevealedSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def reveal(self, request, pk=None):
        data = serializers.RevealSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shown = services.personal_data_reveal(
            actor=request.user,
            resident_id=_id(pk),
            fields=data.validated_data["fields"],
            reason=data.validated_data["reason"],
        )
        return Response(shown)


class PatrolViewSet(mixins.CreateModelMixin, _ReadOnly):
    """Patrols, visits and diary entries in the caller's area; a POST records
    one (``grids.services.patrol_record``) as the caller."""

    # The model, for the schema and the scope walk; rows come from get_queryset.
    queryset = Patrol.objects.none()

    filterset_class = PatrolFilterSet

    def get_queryset(self):
        return Patrol.objects.visible_to(self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.PatrolCreateSerializer
        return serializers.PatrolSerializer

    @extend_schema(
        request=serializers.PatrolCreateSerializer,
        responses={201: serializers.PatrolSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        patrol = services.patrol_record(actor=request.user, **data.validated_data)
        return Response(
            serializers.PatrolSerializer(patrol).data, status=status.HTTP_201_CREATED
        )


class NotificationViewSet(_ReadOnly):
    """The caller's own in-app messages; ``POST …/read/`` marks one read."""

    # The model, for the schema and the scope walk; rows come from get_queryset.
    queryset = Notification.objects.none()

    serializer_class = serializers.NotificationSerializer

    def get_queryset(self):
        return Notification.objects.filter(recipient=self.request.user)

    @extend_schema(request=None, responses=serializers.NotificationSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def read(self, request, pk=None):
        if notification_open(user=request.user, notification_id=_id(pk)) is None:
            get_object_or_404(Notification.objects.none())
        notification = self.get_queryset().get(pk=_id(pk))
        return Response(serializers.NotificationSerializer(notification).data)


def _id(raw) -> int:
    """A path id in plain digits, or 404 (never a database error)."""
    from grids.params import parse_id

    pk = parse_id(raw)
    if pk is None:
        get_object_or_404(Region.objects.none())
    return pk
