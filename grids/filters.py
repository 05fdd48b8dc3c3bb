"""The filters of the grids lists, once, for the API (``grids.api_urls``) and
any list that needs them: each FilterSet takes the acting user and only narrows
a queryset already scoped to their area. No filter reaches personal data
(``grids.masking.is_sensitive_path``)."""

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .choices import PatrolKind, RegionLevel, WorkerRole
from .models import GridAssignment, Household, Patrol, Region, Resident
from .params import parse_id
from .querysets import subtree_q


class IdChoiceField(django_filters.fields.ModelChoiceField):
    """A choice by id written in plain ASCII digits ("١٢", "1.5", "-1" and
    absurdly long numbers are invalid choices, not errors of the database);
    the ticket filters use it too."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        pk = parse_id(value)
        if pk is None:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(pk)


class _IdField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        pk = parse_id(value)
        if pk is None:
            raise ValidationError(_("Enter an id (digits only)."), code="invalid")
        return pk


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.Filter):
    """Rows whose ``field_name`` is this id (plain ASCII digits)."""

    field_class = _IdField


class _UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 moment, turned to UTC: an offset the database does not take
    (``+18:20``) or a moment outside the calendar is a form error, not a 500."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise ValidationError(
                _("Enter a valid date and time."), code="invalid"
            ) from None


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcDateTimeField


@extend_schema_field(OpenApiTypes.INT)
class RegionSubtreeFilter(django_filters.ModelChoiceFilter):
    """A Region in the actor's area and everything under it (MPTT range)."""

    field_class = IdChoiceField

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(subtree_q(value, self.field_name))


class _ScopedFilterSet(django_filters.FilterSet):
    """Region choices limited to the actor's area."""

    region_filters = ()

    def __init__(self, data=None, queryset=None, *, actor, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.actor = actor
        regions = Region.objects.visible_to(actor)
        for name in self.region_filters:
            self.filters[name].queryset = regions


class RegionFilterSet(_ScopedFilterSet):
    subtree = RegionSubtreeFilter(
        field_name="",
        label=_("region (with everything under it)"),
        queryset=Region.objects.none(),
    )
    level = django_filters.MultipleChoiceFilter(
        label=_("level"), choices=RegionLevel.choices
    )
    is_active = django_filters.BooleanFilter(label=_("active"))
    region_filters = ("subtree",)

    class Meta:
        model = Region
        fields = []


class GridAssignmentFilterSet(_ScopedFilterSet):
    grid = RegionSubtreeFilter(
        field_name="grid", label=_("grid"), queryset=Region.objects.none()
    )
    worker = IdFilter(field_name="worker_id", label=_("worker"))
    role = django_filters.ChoiceFilter(label=_("role"), choices=WorkerRole.choices)
    current = django_filters.BooleanFilter(label=_("current"), method="filter_current")
    region_filters = ("grid",)

    class Meta:
        model = GridAssignment
        fields = []

    def filter_current(self, qs, name, value):
        if value is None:
            return qs
        current = GridAssignment.objects.current().values("pk")
        return qs.filter(pk__in=current) if value else qs.exclude(pk__in=current)


class HouseholdFilterSet(_ScopedFilterSet):
    region = RegionSubtreeFilter(
        field_name="region", label=_("region"), queryset=Region.objects.none()
    )
    region_filters = ("region",)

    class Meta:
        model = Household
        fields = []


class ResidentFilterSet(_ScopedFilterSet):
    region = RegionSubtreeFilter(
        field_name="household__region",
        label=_("region"),
        queryset=Region.objects.none(),
    )
    household = IdFilter(field_name="household_id", label=_("household"))
    is_active = django_filters.BooleanFilter(label=_("active"))
    region_filters = ("region",)

    class Meta:
        model = Resident
        fields = []


class PatrolFilterSet(_ScopedFilterSet):
    region = RegionSubtreeFilter(
        field_name="region", label=_("grid"), queryset=Region.objects.none()
    )
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=PatrolKind.choices)
    occurred_after = DateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("occurred from")
    )
    occurred_before = DateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label=_("occurred until")
    )
    region_filters = ("region",)

    class Meta:
        model = Patrol
        fields = []
