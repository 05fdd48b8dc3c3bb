"""The grid worker's field pages on the phone (/m/grid/): find a household (by
building and room, or by a resident's name), its card (一户一档) and the
building view (电子装户图). Read-only, scoped to the worker's area: a household
or building outside it answers 404. The household search is also the picker of
the visit page (tickets' phone pages)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import permissions, selectors
from .errors import OutOfScope
from .phone import phone_login_required


def _require_viewer(request) -> None:
    if not permissions.can_view(request.user):
        raise PermissionDenied


def _int_param(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def household_search_context(request) -> dict:
    """What the search form and its results need (shared with the visit page)."""
    building_id = _int_param(request, "building")
    room = request.GET.get("room", "")[:20]
    name = request.GET.get("name", "")[:20]
    return {
        "buildings": selectors.building_list(actor=request.user),
        "building_id": building_id,
        "room": room,
        "name": name,
        "searched": bool(building_id or room.strip() or name.strip()),
        "households": selectors.household_search(
            actor=request.user, building_id=building_id, room=room, name=name
        ),
        "may_search_names": permissions.can_see_resident_names(request.user),
    }


@phone_login_required
@require_GET
def household_find(request):
    """Find a household: building + room ("3单元502") or a resident's name."""
    _require_viewer(request)
    return render(
        request, "grids/m/household_find.html", household_search_context(request)
    )


@phone_login_required
@require_GET
def household_card(request, household_id: int):
    """一户一档, read-only, with masked personal data."""
    _require_viewer(request)
    try:
        card = selectors.household_card(actor=request.user, household_id=household_id)
    except OutOfScope:
        raise Http404 from None
    return render(request, "grids/m/household_card.html", card)


@phone_login_required
@require_GET
def building_list(request):
    """The buildings of my area, each opening its drawing."""
    _require_viewer(request)
    return render(
        request,
        "grids/m/building_list.html",
        {"buildings": selectors.building_list(actor=request.user)},
    )


@phone_login_required
@require_GET
def building_plan(request, building_id: int):
    """电子装户图: the building as floors × units; a household opens its card."""
    _require_viewer(request)
    try:
        plan = selectors.building_plan(actor=request.user, building_id=building_id)
    except OutOfScope:
        raise Http404 from None
    return render(request, "grids/m/building_plan.html", plan)
