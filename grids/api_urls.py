"""``/api/v1/`` routes of the grids app (mounted by ``governance/api_urls.py``)."""

from rest_framework.routers import SimpleRouter

from .api import resources

router = SimpleRouter()
router.register("regions", resources.RegionViewSet, basename="region")
router.register("grid-workers", resources.GridWorkerViewSet, basename="grid-worker")
router.register("stints", resources.GridAssignmentViewSet, basename="stint")
router.register("households", resources.HouseholdViewSet, basename="household")
router.register("residents", resources.ResidentViewSet, basename="resident")
router.register("patrols", resources.PatrolViewSet, basename="patrol")
router.register("notifications", resources.NotificationViewSet, basename="notification")

urlpatterns = router.urls
