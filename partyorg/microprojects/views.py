"""The 民生微实事 pages outside the phone app: the result page for staff
(totals per community and year, the accepted projects with the money spent) and
the community's public notice (公开, no login, behind the same signed link as the
community's deliberation notice)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from grids import permissions as grid_permissions

from ..deliberation import selectors as deliberation_selectors
from ..deliberation.views import notice_signature, notice_url, signature_valid
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


def micro_project_notice_url(community) -> str:
    return reverse(
        "partyorg:micro_project_notice",
        kwargs={
            "community_id": community.pk,
            "signature": notice_signature(community),
        },
    )


def notice(request, community_id: int, signature: str):
    """民生微实事公开: the community's micro-projects with their state, budget,
    money spent, milestones (photos through the media view's signed public
    route) and accepted result, for anybody with the link. The proposer's name
    is masked; no phone, ID number or birth date is on the page."""
    community = (
        deliberation_selectors.public_communities().filter(pk=community_id).first()
    )
    if community is None or not signature_valid(community_id, signature):
        raise Http404(_("This link is not valid or has expired."))
    return render(
        request,
        "partyorg/microprojects/notice.html",
        {
            "community": community,
            "signature": signature,
            "deliberation_url": notice_url(community),
            **selectors.public_micro_projects(community=community),
        },
    )
