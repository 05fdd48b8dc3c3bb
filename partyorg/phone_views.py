"""The phone pages of the partyorg app (/m/party/): grid workers and community
staff post wishes (群众点单) and record their next steps. Reads through scoped
selectors, writes through services; a wish outside the user's area is a 404."""

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from grids import permissions as grid_permissions
from grids.phone import phone_login_required, run_form

from . import permissions, selectors, services
from .choices import OPEN_WISH_STATES, WishState
from .forms import WishPostForm, wish_action_submit
from .services.wishes import stale_days, stale_wish_q

# --- Micro-wishes on the phone (grid workers, community staff) -----------------


def _require_viewer(request) -> None:
    if not grid_permissions.can_view(request.user):
        raise PermissionDenied


@phone_login_required
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
        "partyorg/m/wish_list.html",
        {
            "wishes": wishes.order_by("posted_at", "pk")[:200],
            "states": WishState.choices,
            "state": state,
            "stale_days": stale_days(),
            "may_post": permissions.can_post_wish(request.user),
        },
    )


@phone_login_required
def wish_new(request):
    """群众点单: post a resident's wish from the phone."""
    if not permissions.can_post_wish(request.user):
        raise Http404
    form = WishPostForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():

        def run() -> str:
            wish = services.wish_post(actor=request.user, **form.cleaned_data)
            return reverse("m:party:wish_detail", args=[wish.pk])

        response = run_form(
            request,
            scope="partyorg:wish_new",
            run=run,
            success_message=_("The wish is posted."),
        )
        if response is not None:
            return response
    return render(request, "partyorg/m/wish_new.html", {"form": form})


@phone_login_required
def wish_detail(request, wish_id: int):
    """One wish, its log, and the form for its next step."""
    _require_viewer(request)
    wish = selectors.wish_list(actor=request.user).filter(pk=wish_id).first()
    if wish is None:
        raise Http404
    form, saved = wish_action_submit(request, wish=wish)
    if saved:
        return redirect("m:party:wish_detail", wish_id=wish.pk)
    events = wish.events.select_related("actor", "member")
    return render(
        request,
        "partyorg/m/wish_detail.html",
        {"wish": wish, "form": form, "events": events},
    )
