"""Pages of the partyorg app: the party coverage report, the 双报到 totals, and
the phone pages where grid workers and community staff post and move wishes.

Everything reads through scoped selectors and writes through services; a region
or a wish outside the user's area is a 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import permissions as grid_permissions
from grids.errors import DomainError, OutOfScope
from grids.models import Region
from grids.params import parse_id

from . import permissions, selectors, services
from .choices import OPEN_WISH_STATES, WishState
from .forms import WishPostForm, wish_action_submit
from .services.wishes import stale_days, stale_wish_q


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


# --- Micro-wishes on the phone (grid workers, community staff) -----------------


def _require_viewer(request) -> None:
    if not grid_permissions.can_view(request.user):
        raise PermissionDenied


@login_required
def wish_list(request):
    """The wishes in the user's area, open ones first; stale ones are flagged."""
    _require_viewer(request)
    state = request.GET.get("state", "")
    wishes = selectors.wish_list(actor=request.user).annotate(
        is_stale=ExpressionWrapper(stale_wish_q(), output_field=BooleanField())
    )
    if state in WishState.values:
        wishes = wishes.filter(state=state)
    elif request.GET.get("stale") == "yes":
        wishes = wishes.filter(stale_wish_q())
    else:
        wishes = wishes.filter(state__in=OPEN_WISH_STATES)
    return render(
        request,
        "partyorg/wish_list.html",
        {
            "wishes": wishes.order_by("posted_at", "pk")[:200],
            "states": WishState.choices,
            "state": state,
            "stale_days": stale_days(),
            "may_post": permissions.can_post_wish(request.user),
        },
    )


@login_required
def wish_new(request):
    """群众点单: post a resident's wish from the phone."""
    if not permissions.can_post_wish(request.user):
        raise Http404
    form = WishPostForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            wish = services.wish_post(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The wish is posted."))
            return redirect("partyorg:wish_detail", wish_id=wish.pk)
    return render(request, "partyorg/wish_new.html", {"form": form})


@login_required
def wish_detail(request, wish_id: int):
    """One wish, its log, and the form for its next step."""
    _require_viewer(request)
    wish = selectors.wish_list(actor=request.user).filter(pk=wish_id).first()
    if wish is None:
        raise Http404
    form, saved = wish_action_submit(request, wish=wish)
    if saved:
        return redirect("partyorg:wish_detail", wish_id=wish.pk)
    events = wish.events.select_related("actor", "member")
    return render(
        request,
        "partyorg/wish_detail.html",
        {"wish": wish, "form": form, "events": events},
    )
