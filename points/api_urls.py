"""``/api/v1/points/``: the points resources (``points.api``)."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("accounts", api.PointsAccountViewSet, basename="points-account")
router.register("awards", api.AwardViewSet, basename="points-award")
router.register("prizes", api.PrizeViewSet, basename="points-prize")
router.register("redemptions", api.RedemptionViewSet, basename="points-redemption")

urlpatterns = router.urls
