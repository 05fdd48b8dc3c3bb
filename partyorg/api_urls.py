"""``/api/v1/party/``: the partyorg resources (``partyorg.api``)."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("organisations", api.PartyOrgViewSet, basename="party-org")
router.register("members", api.PartyMemberViewSet, basename="party-member")
router.register("wishes", api.WishViewSet, basename="party-wish")

urlpatterns = router.urls
