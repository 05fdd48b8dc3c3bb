"""The 15-minute service circle page: a table per community and, for one
community, a map drawn as SVG from our own points (no tiles, no CDN)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from grids import permissions as grid_permissions

from . import selectors


@login_required
def service_circle(request):
    if not grid_permissions.can_view(request.user):
        raise PermissionDenied
    return render(
        request,
        "partyorg/sites/service_circle.html",
        {
            "rows": selectors.service_circle_by_community(actor=request.user),
            "radius": round(selectors.circle_radius_m()),
        },
    )


@login_required
def service_circle_map(request, community_id: int):
    if not grid_permissions.can_view(request.user):
        raise PermissionDenied
    drawn = selectors.community_map(actor=request.user, community_id=community_id)
    if drawn is None:
        raise Http404
    return render(request, "partyorg/sites/service_circle_map.html", drawn)
