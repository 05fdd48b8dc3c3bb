"""Choices of the partyorg app: organisation types and the wish lifecycle.

The rules that go with them (which type may hang under which, which Region
level each type covers, which wish state may follow which) are data here, next
to the choices, so the services and the tests read the same table.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.choices import RegionLevel


class OrgType(models.TextChoices):
    # 街道党工委: the street's party working committee, top of the tree.
    WORKING_COMMITTEE = "working_committee", _("Street party working committee")
    # 社区党委 / 党总支: the community's party committee or general branch.
    COMMUNITY_COMMITTEE = "community_committee", _("Community party committee")
    # 网格党支部: "支部建在网格上", one branch per grid.
    GRID_BRANCH = "grid_branch", _("Grid party branch")
    # 楼栋(街巷)党小组: a party group for a building or a lane inside a grid.
    BUILDING_GROUP = "building_group", _("Building party group")
    # 党员中心户 / 楼道红管家: a core household or stairwell "red steward".
    CORE_HOUSEHOLD = "core_household", _("Party core household")


# Which organisation type may hang under which; None is the root (seeds 000, 004:
# 街道党工委 → 社区党组织 → 网格党支部 → 党小组 → 楼道红管家).
ALLOWED_CHILD_TYPES = {
    None: {OrgType.WORKING_COMMITTEE},
    OrgType.WORKING_COMMITTEE: {OrgType.COMMUNITY_COMMITTEE},
    OrgType.COMMUNITY_COMMITTEE: {OrgType.GRID_BRANCH},
    OrgType.GRID_BRANCH: {OrgType.BUILDING_GROUP},
    OrgType.BUILDING_GROUP: {OrgType.CORE_HOUSEHOLD},
    OrgType.CORE_HOUSEHOLD: set(),
}

# Which Region level each type may cover. A building group covers a building,
# or its whole grid where buildings are not on the map (a lane, 街巷).
ALLOWED_REGION_LEVELS = {
    OrgType.WORKING_COMMITTEE: {RegionLevel.STREET},
    OrgType.COMMUNITY_COMMITTEE: {RegionLevel.COMMUNITY},
    OrgType.GRID_BRANCH: {RegionLevel.GRID},
    OrgType.BUILDING_GROUP: {RegionLevel.GRID, RegionLevel.BUILDING},
    OrgType.CORE_HOUSEHOLD: {RegionLevel.GRID, RegionLevel.BUILDING},
}

# Types whose presence on a grid counts as "the grid has a party organisation".
COVERING_TYPES = (OrgType.GRID_BRANCH, OrgType.BUILDING_GROUP)


class WishState(models.TextChoices):
    # 已发布: a grid worker or community staff posted the resident's wish (群众点单).
    POSTED = "posted", _("Posted")
    # 已认领: a party member claimed it (党员接单); one claim at a time.
    CLAIMED = "claimed", _("Claimed")
    # 已实现: the member says it is done, with a note and a photo.
    FULFILLED = "fulfilled", _("Fulfilled")
    # 已确认: community staff confirmed it with the resident. Final.
    CONFIRMED = "confirmed", _("Confirmed")
    # 已撤回: the resident no longer needs it (recorded by staff). Final.
    WITHDRAWN = "withdrawn", _("Withdrawn")
    # 已取消: staff cancelled it (duplicate, not suitable). Final.
    CANCELLED = "cancelled", _("Cancelled")


OPEN_WISH_STATES = (WishState.POSTED, WishState.CLAIMED, WishState.FULFILLED)


class WishAction(models.TextChoices):
    """What a wish event records (the action, not only the new state)."""

    POST = "post", _("posted")
    CLAIM = "claim", _("claimed")
    RELEASE = "release", _("claim released")
    FULFIL = "fulfil", _("fulfilled")
    REJECT = "reject", _("fulfilment refused")
    CONFIRM = "confirm", _("confirmed")
    WITHDRAW = "withdraw", _("withdrawn")
    CANCEL = "cancel", _("cancelled")


# Each step of a wish: the states it starts from and the state it leads to. The
# one statement of the wish lifecycle (seed 002: 群众点单、社区派单、党员接单);
# the state graph below, the actions a page offers and the check every wish
# service makes after its lock (``permissions.require_wish_action``) read it.
# Posting (群众点单 / 社区派单) creates the wish and is not a step of one.
WISH_TRANSITIONS = {
    # 党员接单: a party member claims (认领) a posted wish; one claim at a time.
    WishAction.CLAIM: ({WishState.POSTED}, WishState.CLAIMED),
    # 放弃认领: the member gives the claim back; others may claim it again.
    WishAction.RELEASE: ({WishState.CLAIMED}, WishState.POSTED),
    # 圆梦: the member reports the wish fulfilled, with a note and a photo.
    WishAction.FULFIL: ({WishState.CLAIMED}, WishState.FULFILLED),
    # 确认: community staff confirm the fulfilment with the resident. Final.
    WishAction.CONFIRM: ({WishState.FULFILLED}, WishState.CONFIRMED),
    # 退回: staff refuse the fulfilment; the wish goes back to the member.
    WishAction.REJECT: ({WishState.FULFILLED}, WishState.CLAIMED),
    # 撤回: the resident no longer needs it, before it is fulfilled.
    WishAction.WITHDRAW: ({WishState.POSTED, WishState.CLAIMED}, WishState.WITHDRAWN),
    # 取消: staff cancel it (a duplicate, not suitable), before it is fulfilled.
    WishAction.CANCEL: ({WishState.POSTED, WishState.CLAIMED}, WishState.CANCELLED),
}

# The allowed state graph, derived from the steps above.
ALLOWED_WISH_TRANSITIONS: dict[str, set[str]] = {state: set() for state in WishState}
for _from_states, _to_state in WISH_TRANSITIONS.values():
    for _state in _from_states:
        ALLOWED_WISH_TRANSITIONS[_state].add(_to_state)
