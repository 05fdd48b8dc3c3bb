"""The phone pages of the points app (/m/points/): a grid worker proposes
points for a resident (积分申报)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from grids.errors import DomainError
from grids.phone import phone_login_required

from . import permissions, services
from .forms import AwardProposalForm
from .models import Award


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
    return render(
        request, "points/m/award_propose.html", {"form": form, "recent": recent}
    )
