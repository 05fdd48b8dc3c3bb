"""``/api/v1/`` routes of the tickets app (mounted by ``governance/api_urls.py``)."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("tickets", api.TicketViewSet, basename="ticket")

urlpatterns = router.urls
