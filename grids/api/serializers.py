"""Serializers of the grids resources. Thin: they shape rows for reading and
check the types of a write; the services decide. Personal data is shown only
masked (``grids.masking``); the whole value only through the reveal endpoint,
which logs it (``grids.services.personal_data_reveal``)."""

import copy

from django.db import connection
from django.utils import timezone
from rest_framework import serializers

from grids import permissions
from grids.choices import PatrolKind
from grids.errors import OutOfScope
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
from grids.prepared import PreparedQuery
from grids.services import REVEALABLE_FIELDS


class FieldsBuiltOnceMixin:
    """For a serializer whose fields depend on its class alone (not on the
    request, the context or the instance): its fields are built once a process
    and each instance gets copies, unbound, as DRF gives it the declared ones.
    ``ModelSerializer.get_fields`` otherwise introspects the model again for
    every instance (~5 ms of an intake's response on this machine).

    A plain field is copied shallowly (``_fresh_copy``), which is what DRF's
    deep copy (the field built again from its arguments) comes to for a field
    that was never bound, at a tenth of the cost; a field holding other fields
    (a list's child, a nested serializer) is deep-copied as DRF does. Mix in
    first."""

    def get_fields(self):
        built = type(self).__dict__.get("_fields_built_once")
        if built is None:
            built = {
                name: (field, _holds_fields(field))
                for name, field in super().get_fields().items()
            }
            type(self)._fields_built_once = built
        return {
            name: copy.deepcopy(field) if deep else _fresh_copy(field)
            for name, (field, deep) in built.items()
        }


def _holds_fields(field) -> bool:
    return isinstance(field, serializers.BaseSerializer) or any(
        isinstance(value, serializers.Field) for value in field.__dict__.values()
    )


def _fresh_copy(field):
    # What ``copy.copy`` makes (a new instance with the same attributes), without
    # its generic ``__reduce_ex__`` round: a third of the time.
    fresh = object.__new__(type(field))
    attributes = fresh.__dict__
    attributes.update(field.__dict__)
    # The one list DRF may add to in place (``Field.validators``): each copy
    # its own, with the same validators.
    validators = attributes.get("_validators")
    if validators is not None:
        attributes["_validators"] = list(validators)
    return fresh


_REGION_BY_PK = PreparedQuery(lambda pk: Region.objects.filter(pk=pk)[:1], pk=int)


class ScopedRegionField(serializers.PrimaryKeyRelatedField):
    """A Region by id among those the caller may see; another area's is "does
    not exist", as for any object out of scope. Found by one prepared lookup
    (``grids.prepared``) and checked by ``permissions.require_in_scope``, the
    rule ``Region.objects.visible_to`` applies in SQL: an intake or a patrol
    does not compile the scoped queryset each time."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Region.objects.none())
        super().__init__(**kwargs)

    def get_queryset(self):
        # The choices (browsable API, schema): the caller's area.
        request = self.context.get("request")
        if request is None:
            return Region.objects.none()
        return Region.objects.visible_to(request.user)

    def to_internal_value(self, data):
        if isinstance(data, str) and data.isascii() and data.strip().isdigit():
            data = int(data.strip())
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        low, high = connection.ops.integer_field_range(
            Region._meta.pk.get_internal_type()
        )
        region = _REGION_BY_PK.first(pk=data) if low <= data <= high else None
        request = self.context.get("request")
        try:
            permissions.require_in_scope(
                request.user if request is not None else None, region
            )
        except OutOfScope:
            self.fail("does_not_exist", pk_value=data)
        return region


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

    region = ScopedRegionField()
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
            self.fields["household"].queryset = Household.objects.visible_to(actor)


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "title", "body", "url", "channel", "created_at", "read_at"]
