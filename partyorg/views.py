"""Pages of the partyorg app: the party coverage report, the 双报到 totals, and
the phone pages where grid workers and community staff post and move wishes.

Everything reads through scoped selectors and writes through services; a region
or a wish outside the user's area is a 404.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from grids import permissions as grid_permissions
from grids.errors import OutOfScope
from grids.models import Region
from grids.params import parse_id

from . import selectors


def _region_from_request(request) -> Region | None:
    """``?region=<id>`` if given and visible, else None (the user's own scope);
    a malformed or invisible id is a 404."""
    if not grid_permissions.can_view(request.user):
        raise PermissionDenied
    raw = request.GET.get("region")
    if not raw:
        return request.user.scope_region
    region_id = parse_id(raw)
    if region_id is None:
        raise Http404
    region = Region.objects.visible_to(request.user).filter(pk=region_id).first()
    if region is None:
        raise Http404
    return region


@login_required
def coverage(request):
    """支部建在网格上: the coverage rate, the drill-down by child node, and the
    grids still without a party organisation."""
    region = _region_from_request(request)
    try:
        figures = selectors.party_coverage(actor=request.user, region=region)
        uncovered = selectors.grids_without_party_org(
            actor=request.user, region=region
        )[:500]
        children = (
            selectors.coverage_by_child(actor=request.user, region=region)
            if region is not None
            else Region.objects.none()
        )
        heads = selectors.grid_head_party_figures(region=region) if region else None
    except OutOfScope:
        raise Http404 from None
    return render(
        request,
        "partyorg/coverage.html",
        {
            "region": region,
            "figures": figures,
            "uncovered": uncovered,
            "children": children,
            "heads": heads,
        },
    )


@login_required
def service_totals(request):
    """In-service members' service hours for a year, per community and member."""
    region = _region_from_request(request)
    # A missing or malformed ?year= falls back to this year; an absurd one is a 404.
    year = parse_id(request.GET.get("year"))
    if year is None:
        year = timezone.localdate().year
    if not 2000 <= year <= 2100:
        raise Http404
    try:
        by_community = list(
            selectors.service_totals_by_community(
                actor=request.user, year=year, region=region
            )
        )
        by_member = list(
            selectors.service_totals_by_member(
                actor=request.user, year=year, region=region
            )[:200]
        )
    except OutOfScope:
        raise Http404 from None
    from grids.masking import mask_name

    for row in by_member:
        row["masked_name"] = mask_name(row["registration__member__name"])
    return render(
        request,
        "partyorg/service_totals.html",
        {
            "region": region,
            "year": year,
            "by_community": by_community,
            "by_member": by_member,
        },
    )
