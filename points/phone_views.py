"""The phone pages of the points app (/m/points/): a grid worker proposes
points for a resident (积分申报)."""

from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from grids.errors import DomainError
from grids.models import Resident
from grids.params import parse_id
from grids.phone import phone_login_required

from . import permissions, services
from .forms import AwardProposalForm
from .models import Award

# Residents offered by one search.
SEARCH_LIMIT = 20


@phone_login_required
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
                return redirect("m:points:propose")
    else:
        form = AwardProposalForm(user=request.user)
    recent = (
        Award.objects.filter(proposed_by=request.user)
        .select_related("resident", "rule_item")
        .order_by("-created_at")[:20]
    )
    chosen = None
    if form.is_bound and form["resident"].value():
        chosen = _resident_matches(request.user, pk=form["resident"].value()).first()
    return render(
        request,
        "points/m/award_propose.html",
        {"form": form, "recent": recent, "chosen": chosen},
    )


def _resident_matches(user, *, search: str = "", pk=None):
    """Active residents in ``user``'s area matching a name or an address (building
    and room are part of the address), at most ``SEARCH_LIMIT``."""
    qs = (
        Resident.objects.visible_to(user)
        .active()
        .select_related("household")
        .only("pk", "name", "household__address")
        .order_by("household__address", "name")
    )
    if pk is not None:
        resident_id = parse_id(pk)
        return qs.filter(pk=resident_id) if resident_id else qs.none()
    search = search.strip()
    if not search:
        return qs.none()
    return qs.filter(
        Q(name__icontains=search) | Q(household__address__icontains=search)
    )[:SEARCH_LIMIT]


@require_GET
@phone_login_required
def resident_search(request):
    """htmx partial: the residents matching ``resident_q`` (name, building, room),
    scoped to the user's area, as choices of the proposal form."""
    if not permissions.can_propose_award(request.user):
        raise Http404
    search = request.GET.get("resident_q", "")[:50]
    return render(
        request,
        "points/m/_residents.html",
        {
            "residents": list(_resident_matches(request.user, search=search)),
            "searched": bool(search.strip()),
        },
    )
