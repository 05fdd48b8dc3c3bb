"""Serializers of the grids resources. Thin: they shape rows for reading and
check the types of a write; the services decide. Personal data is shown only
masked (``grids.masking``); the whole value only through the reveal endpoint,
which logs it (``grids.services.personal_data_reveal``)."""

import copy

from django.utils import timezone
from rest_framework import serializers

from grids import permissions
from grids.choices import PatrolKind
from grids.masking import age_band, mask_name
from grids.models import (
    GridAssignment,
    GridWorker,
    Household,
    Notification,
    Patrol,
    Region,
    Resident,
)
from grids.services import REVEALABLE_FIELDS


class FieldsBuiltOnceMixin:
    """For a ModelSerializer whose fields depend on its class alone (not on the
    request, the context or the instance): its fields are built from the model
    once a process and each instance gets a deep copy, as DRF gives it the
    declared ones. ``ModelSerializer.get_fields`` otherwise introspects the
    model again for every instance (~5 ms of an intake's response on this
    machine). Mix in first."""

    def get_fields(self):
        built = type(self).__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()
            type(self)._fields_built_once = built
        return copy.deepcopy(built)


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "name", "code", "level", "parent", "depth", "is_active"]


class GridWorkerSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(source="masked_phone", read_only=True)

    class Meta:
        model = GridWorker
        fields = ["id", "name", "phone", "is_party_member", "home_region"]


class GridAssignmentSerializer(serializers.ModelSerializer):
    worker_name = serializers.CharField(source="worker.name", read_only=True)

    class Meta:
        model = GridAssignment
        fields = [
            "id",
            "worker",
            "worker_name",
            "grid",
            "role",
            "started_on",
            "ended_on",
        ]


class HouseholdSerializer(serializers.ModelSerializer):
    class Meta:
        model = Household
        fields = [
            "id",
            "region",
            "address",
            "household_number",
            "resident_count",
            "updated_at",
        ]


class ResidentSerializer(serializers.ModelSerializer):
    """A resident with the ID-card number and phone masked, the birth date as
    an age band, the name masked for roles that only read (supervisors)."""

    name = serializers.SerializerMethodField()
    id_number = serializers.CharField(source="masked_id_number", read_only=True)
    phone = serializers.CharField(source="masked_phone", read_only=True)
    age_band = serializers.SerializerMethodField()

    class Meta:
        model = Resident
        fields = [
            "id",
            "household",
            "name",
            "id_number",
            "phone",
            "age_band",
            "relationship",
            "residence_type",
            "is_active",
        ]

    def get_name(self, resident) -> str:
        user = self.context["request"].user
        if permissions.can_see_resident_names(user):
            return resident.name
        return mask_name(resident.name)

    def get_age_band(self, resident) -> str:
        return age_band(resident.birth_date, timezone.localdate())


class RevealSerializer(serializers.Serializer):
    fields = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(REVEALABLE_FIELDS)),
        min_length=1,
        max_length=len(REVEALABLE_FIELDS),
    )
    reason = serializers.CharField(max_length=200)


class RevealedSerializer(serializers.Serializer):
    id_number = serializers.CharField(required=False)
    phone = serializers.CharField(required=False)


class PatrolSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patrol
        fields = [
            "id",
            "worker",
            "region",
            "kind",
            "occurred_at",
            "household",
            "notes",
            "gps_latitude",
            "gps_longitude",
            "created_at",
        ]


class PatrolCreateSerializer(serializers.Serializer):
    """The input of ``grids.services.patrol_record``: the place and household
    must lie in the caller's area (the choices are scoped; the service checks
    again after its checks of role and level)."""

    region = serializers.PrimaryKeyRelatedField(queryset=Region.objects.none())
    kind = serializers.ChoiceField(choices=PatrolKind.choices)
    notes = serializers.CharField(max_length=5000)
    occurred_at = serializers.DateTimeField(required=False)
    household = serializers.PrimaryKeyRelatedField(
        queryset=Household.objects.none(), required=False, allow_null=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # none while the schema is built
        if request is not None:
            actor = request.user
            self.fields["region"].queryset = Region.objects.visible_to(actor)
            self.fields["household"].queryset = Household.objects.visible_to(actor)


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "title", "body", "url", "channel", "created_at", "read_at"]
