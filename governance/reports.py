"""The read-only report pages that exist today, and who may open them: the 报表
block of the admin index and of the phone menu list these (one place)."""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext as _

from grids import permissions as grid_permissions
from grids.choices import RegionLevel
from grids.models import Region
from points import permissions as points_permissions

from .permissions import can_see_dashboard

# Rankings are one page per community; a district lists at most this many.
MAX_RANKING_LINKS = 30


@dataclass(frozen=True)
class ReportLink:
    title: str
    url: str
    description: str = ""
    # Further links of the same report (one per community for the rankings).
    items: list[tuple[str, str]] = field(default_factory=list)


def _ranking_communities(user) -> list[Region]:
    """The communities whose rankings the user's area covers: those inside the
    scope, or the community a grid worker's grid lies in."""
    communities = list(
        Region.objects.visible_to(user)
        .filter(level=RegionLevel.COMMUNITY, is_active=True)
        .order_by("tree_id", "lft")[: MAX_RANKING_LINKS + 1]
    )
    if not communities and user.region_id:
        own = user.region.ancestor_of_level(RegionLevel.COMMUNITY)
        communities = [own] if own is not None and own.is_active else []
    return communities


def _bulletin_links(user) -> list[ReportLink]:
    """周通报, 月评比 and 年奖惩 (governance.views_bulletins), for a user whose
    area holds a street or a community (the bulletin) or a district (the
    rankings)."""
    from .bulletins import BULLETIN_LEVELS, RANKING_LEVELS, default_region

    links = []
    if default_region(user, BULLETIN_LEVELS) is not None:
        links.append(
            ReportLink(
                title=_("Weekly bulletin"),
                url=reverse("bulletins:weekly"),
                description=_(
                    "Tickets received, closed, overdue and escalated, and "
                    "patrol days of a week, by community and grid."
                ),
            )
        )
    if default_region(user, RANKING_LEVELS) is not None:
        links += [
            ReportLink(
                title=_("Monthly grid ranking"),
                url=reverse("bulletins:monthly"),
                description=_(
                    "The month's grid ratings by score, ten best and ten worst, "
                    "class changes."
                ),
            ),
            ReportLink(
                title=_("Yearly summary of grid ratings"),
                url=reverse("bulletins:yearly"),
                description=_("Each grid's classes over the twelve months."),
            ),
        ]
    return links


def report_links(user) -> list[ReportLink]:
    """The reports ``user`` may open, in the order the 报表 block shows them."""
    if not grid_permissions.can_view(user):
        return []
    links = []
    if can_see_dashboard(user):
        links.append(
            ReportLink(
                title=_("Dashboard"),
                url=reverse("dashboard:home"),
                description=_(
                    "Tickets, the 12345 rates, A/B/C classes, coverage and points "
                    "of your area, month by month, down to each grid."
                ),
            )
        )
    links += [
        ReportLink(
            title=_("Party organisation coverage"),
            url=reverse("partyorg:coverage"),
            description=_(
                "Grids with a party branch or group, and those still without."
            ),
        ),
        ReportLink(
            title=_("In-service members' services"),
            url=reverse("partyorg:service_totals"),
            description=_(
                "Registered members' services and hours, by community and member."
            ),
        ),
    ]
    links += _bulletin_links(user)
    communities = _ranking_communities(user)
    if communities:
        items = [
            (c.name, reverse("points:rankings", args=[c.pk]))
            for c in communities[:MAX_RANKING_LINKS]
        ]
        if len(communities) > MAX_RANKING_LINKS:
            items.append(("…", ""))
        links.append(
            ReportLink(
                title=_("Integrity and civility ranking"),
                url=items[0][1],
                description=_("Residents' points ranking of a community."),
                items=items if len(items) > 1 else [],
            )
        )
    if user.is_staff and points_permissions.can_export_ledger(user):
        links.append(
            ReportLink(
                title=_("Export the ledger to Excel"),
                url=reverse("admin:points_ledgerentry_export"),
                description=_("One community's points ledger for one month."),
            )
        )
    return links
