"""Ratings and indicators in the REST API (read-only), under ``/api/v1/``:
the monthly grid ratings (A/B/C, score, rank, the indicator values they came
from), 十佳/十差, the grids that moved class, and the indicator drill-down of a
region's children. Here because they read across apps (apps never import
governance); each view calls ``governance.selectors`` or
``governance.indicators``, which start from the reader's scope."""

import datetime as dt

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from grids.api.views import ApiViewMixin
from grids.errors import DomainError, OutOfScope
from grids.models import Region
from grids.querysets import scope_q

from .indicators import children_indicators
from .models import GridRating
from .selectors import best_and_worst, rating_movers, ratings_visible

MAX_BEST_WORST = 50

MONTH = OpenApiParameter(
    "month",
    OpenApiTypes.STR,
    description="YYYY-MM",
    required=True,
    pattern=r"^\d{4}-\d{2}$",
)
REGION = OpenApiParameter(
    "region", OpenApiTypes.INT, description="a region of your area (its id)"
)


def _month(request) -> dt.date | None:
    """``?month=YYYY-MM`` (or a date in the month); None when not given."""
    raw = (request.query_params.get("month") or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw[:10] if len(raw) > 7 else f"{raw}-01").replace(
            day=1
        )
    except ValueError:
        raise DomainError(
            _("Give the month as YYYY-MM."), code="invalid", extra={"field": "month"}
        ) from None


def _required_month(request) -> dt.date:
    month = _month(request)
    if month is None:
        raise DomainError(
            _("Give the month as YYYY-MM."), code="invalid", extra={"field": "month"}
        )
    return month


def _region(request, *, required=False):
    raw = (request.query_params.get("region") or "").strip()
    if not raw:
        if required:
            raise DomainError(
                _("Give the region."), code="invalid", extra={"field": "region"}
            )
        return None
    region = Region.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
    if region is None:
        raise OutOfScope(_("This object does not exist or lies outside your area."))
    return region


class GridRatingSerializer(serializers.ModelSerializer):
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    street_name = serializers.CharField(
        source="street.name", read_only=True, default=""
    )

    class Meta:
        model = GridRating
        fields = [
            "id",
            "grid",
            "grid_name",
            "street",
            "street_name",
            "month",
            "score",
            "rating_class",
            "computed_class",
            "rank_in_street",
            "grids_in_street",
            "indicators",
            "smoothed",
            "is_smoothed",
            "state",
            "rule_set_version",
            "computed_at",
        ]
        read_only_fields = fields


class GridRatingMoverSerializer(GridRatingSerializer):
    previous_class = serializers.CharField(read_only=True)
    moved = serializers.IntegerField(read_only=True)

    class Meta(GridRatingSerializer.Meta):
        fields = [*GridRatingSerializer.Meta.fields, "previous_class", "moved"]
        read_only_fields = fields


@extend_schema_view(list=extend_schema(parameters=[MONTH, REGION]))
class GridRatingViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """``?month=YYYY-MM`` (required for the list) and ``?region=<id>`` (a node of
    the caller's area). ``best-worst`` (十佳/十差, ``?count=`` up to 50) and
    ``movers`` (动态调整) take the same parameters."""

    serializer_class = GridRatingSerializer
    queryset = GridRating.objects.all()

    def get_queryset(self):
        if self.action == "retrieve":
            return GridRating.objects.filter(
                scope_q(self.request.user, "grid")
            ).select_related("grid", "street")
        return ratings_visible(
            actor=self.request.user,
            month=_required_month(self.request),
            region=_region(self.request),
        )

    @extend_schema(
        parameters=[
            MONTH,
            OpenApiParameter("region", OpenApiTypes.INT, required=True),
            OpenApiParameter("count", OpenApiTypes.INT, description="1 to 50"),
        ],
        responses=inline_serializer(
            "BestWorst",
            {
                "best": GridRatingSerializer(many=True),
                "worst": GridRatingSerializer(many=True),
            },
        ),
    )
    @action(detail=False, url_path="best-worst")
    def best_worst(self, request):
        raw = request.query_params.get("count", "10")
        count = min(int(raw), MAX_BEST_WORST) if raw.isdigit() and raw != "0" else 10
        lists = best_and_worst(
            actor=request.user,
            region=_region(request, required=True),
            month=_required_month(request),
            count=count,
        )
        return Response(
            {
                key: GridRatingSerializer(rows, many=True).data
                for key, rows in lists.items()
            }
        )

    @extend_schema(
        parameters=[MONTH, REGION], responses=GridRatingMoverSerializer(many=True)
    )
    @action(detail=False)
    def movers(self, request):
        rows = rating_movers(
            actor=request.user,
            month=_required_month(request),
            region=_region(request),
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(
            GridRatingMoverSerializer(page, many=True).data
        )


class IndicatorsView(ApiViewMixin, APIView):
    """``GET /api/v1/indicators/?region=<id>&month=YYYY-MM``: the indicators of
    each active child of the region (the drill-down), two queries."""

    @extend_schema(
        parameters=[
            OpenApiParameter("region", OpenApiTypes.INT, required=True),
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM"),
        ],
        responses=inline_serializer(
            "ChildIndicators",
            {
                "region": serializers.IntegerField(),
                "month": serializers.CharField(),
                "children": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request):
        region = _region(request, required=True)
        month = _month(request) or dt.date.today().replace(day=1)
        rows = children_indicators(actor=request.user, region=region, month=month)
        return Response(
            {
                "region": region.pk,
                "month": month.isoformat()[:7],
                "children": rows,
            }
        )
