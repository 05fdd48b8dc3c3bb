"""Pages of the points app: the resident's statement behind a signed link, the
诚信文明 rankings, and the grid worker's phone form to propose an award."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import RegionLevel
from grids.models import Region, Resident
from grids.params import parse_id

from . import permissions, selectors
from .links import rankings_signature_valid, rankings_url, resident_id_from_token


def statement(request, token):
    """积分查询: balance, history and prizes, for whoever holds the signed link."""
    resident_id = resident_id_from_token(token)
    resident = (
        Resident.objects.select_related("household__region")
        .filter(pk=resident_id, is_active=True)
        .first()
        if resident_id
        else None
    )
    if resident is None:
        raise Http404(_("This link is not valid or has expired."))
    context = selectors.statement(resident=resident)
    if context["community"] is not None:
        context["rankings_url"] = rankings_url(context["community"])
    response = render(request, "points/statement.html", context)
    # The link is the key: keep it out of caches and out of other sites' referrers
    # (same-origin still sends it to us: the CSRF check of the language form needs it).
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _int_param(request, name, default, low, high):
    value = parse_id(request.GET.get(name))
    return value if value is not None and low <= value <= high else default


def _community(community_id) -> Region | None:
    return Region.objects.filter(
        pk=community_id, level=RegionLevel.COMMUNITY, is_active=True
    ).first()


def _rankings_page(request, community, *, public_url):
    today = timezone.localdate()
    year = _int_param(request, "year", today.year, 2000, 2100)
    month = _int_param(request, "month", 0, 0, 12) or None
    response = render(
        request,
        "points/rankings.html",
        {
            "community": community,
            "year": year,
            "month": month,
            "months": range(1, 13),
            "ranking": selectors.leaderboard(
                community=community, year=year, month=month
            ),
            "public_url": public_url,
        },
    )
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


@login_required
def rankings(request, community_id):
    """诚信文明 rankings of a community in the user's area, by month or year; names
    are masked. Another area's community answers like an unknown one (404)."""
    community = _community(community_id)
    if not permissions.can_view_rankings(request.user, community):
        raise Http404(_("No such community."))
    return _rankings_page(
        request,
        community,
        public_url=request.build_absolute_uri(rankings_url(community)),
    )


def rankings_public(request, community_id, signature):
    """The same rankings for public display (公示), behind the community's signed
    link: no account needed. A forged or altered signature, or another
    community's, is a 404."""
    community = _community(community_id)
    if community is None or not rankings_signature_valid(community_id, signature):
        raise Http404(_("This link is not valid or has expired."))
    return _rankings_page(request, community, public_url=None)
