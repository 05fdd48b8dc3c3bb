"""``/api/v1/ratings/`` and ``/api/v1/indicators/`` (``governance.api``)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("ratings", api.GridRatingViewSet, basename="rating")

urlpatterns = [
    *router.urls,
    path("indicators/", api.IndicatorsView.as_view(), name="indicators"),
]
