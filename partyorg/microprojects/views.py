"""The 民生微实事 result page for staff: totals per community and year, and the
accepted projects with the money spent (the proposer's name masked)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from grids import permissions as grid_permissions

from . import selectors
from .choices import ProjectState


@login_required
def micro_project_results(request):
    if not grid_permissions.can_view(request.user):
        raise PermissionDenied
    accepted = (
        selectors.micro_project_list(actor=request.user)
        .filter(state=ProjectState.ACCEPTED)
        .order_by("-accepted_at", "-pk")[:200]
    )
    return render(
        request,
        "partyorg/microprojects/results.html",
        {
            "totals": selectors.micro_project_totals(actor=request.user),
            "accepted": accepted,
        },
    )
