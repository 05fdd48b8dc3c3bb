"""Pages of the points app: the resident's statement behind a signed link, the
诚信文明 rankings, and the grid worker's phone form to propose an award."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import RegionLevel
from grids.errors import DomainError
from grids.models import Region, Resident
from grids.params import parse_id

from . import permissions, selectors, services
from .forms import AwardProposalForm
from .links import rankings_signature_valid, rankings_url, resident_id_from_token
from .models import Award


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


@login_required
def award_propose(request):
    """积分申报 on the phone: a grid worker proposes points for a resident."""
    if not permissions.can_propose_award(request.user):
        raise Http404
    if request.method == "POST":
        form = AwardProposalForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                award, created = services.award_propose(
                    actor=request.user,
                    resident_id=data["resident"].pk,
                    rule_item_id=data["rule_item"].pk,
                    awarded_on=data["awarded_on"],
                    idempotency_key=data["idempotency_key"],
                    note=data["note"],
                    photo=data["photo"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Proposal sent: %(resident)s, %(item)s.")
                    % {"resident": award.resident.name, "item": award.rule_item.name}
                    if created
                    else _("This proposal was already received."),
                )
                return redirect("points:propose")
    else:
        form = AwardProposalForm(user=request.user)
    recent = (
        Award.objects.filter(proposed_by=request.user)
        .select_related("resident", "rule_item")
        .order_by("-created_at")[:20]
    )
    return render(
        request, "points/award_propose.html", {"form": form, "recent": recent}
    )
