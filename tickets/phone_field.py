"""The grid worker's field pages in the tickets app (/m/tickets/): the patrol
check-in and household visit, which may raise an event in the same step (so it
needs tickets, and grids cannot import tickets), and a grid's printable QR
poster for the residents' reports (码上办)."""

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from grids import permissions as grid_permissions
from grids import selectors as grid_selectors
from grids.choices import RegionLevel
from grids.phone import phone_login_required, run_form
from grids.phone_field import household_search_context
from grids.qr import qr_svg

from . import services
from .field_forms import VisitForm

POSTER_SALT = "tickets.grid-poster"


@phone_login_required
@require_http_methods(["GET", "POST"])
def visit(request):
    """日巡查 / 入户走访: pick the household (building + room or name), write
    notes and a photo, and report an event found there in the same step."""
    actor = request.user
    if not (
        grid_permissions.can_record_patrol(actor) and grid_permissions.can_view(actor)
    ):
        raise PermissionDenied  # not a recording role, or an account without an area
    household = None
    household_id = request.GET.get("household", "")
    if household_id:
        if not household_id.isdigit():
            raise Http404
        household = (
            grid_selectors.household_list(actor=actor).filter(pk=household_id).first()
        )
        if household is None:
            raise Http404
    if request.method == "POST":
        form = VisitForm(request.POST, request.FILES, actor=actor)
        if form.is_valid():
            data = form.cleaned_data

            def run():
                _patrol, ticket = services.visit_record_with_ticket(
                    actor=actor,
                    region=data["region"],
                    kind=data["kind"],
                    household=data["household"],
                    notes=data["notes"],
                    photo=data["photo"],
                    event_description=(
                        data["event_description"] if data["raise_event"] else ""
                    ),
                    event_category=data["event_category"],
                )
                if ticket is not None:
                    messages.success(
                        request,
                        _("Event %(number)s was reported to the street centre.")
                        % {"number": ticket.display_number},
                    )
                return reverse("m:home")

            response = run_form(
                request,
                scope="tickets.visit",
                run=run,
                success_message=_("Recorded. Thank you."),
            )
            if response is not None:
                return response
        household = household or form.cleaned_data.get("household")
    else:
        initial = {}
        if household is not None:
            initial = {
                "household": household,
                "region": household.region,
                "kind": "visit",
            }
        form = VisitForm(initial=initial, actor=actor)
    context = {
        "form": form,
        "household": household,
        "pick_url": reverse("m:tickets:visit"),
        "search_action": reverse("m:tickets:visit"),
        **household_search_context(request),
    }
    return render(request, "tickets/m/visit.html", context)


# --- The QR poster ---------------------------------------------------------------


def poster_token(grid) -> str:
    """The signed part of a poster's URL ("<grid id>:<signature>"): the same for
    every print of the grid's poster and never expiring, while grid numbers
    cannot be walked to spam every grid's queue."""
    return signing.Signer(salt=POSTER_SALT).sign(str(grid.pk))


def grid_from_poster_token(token: str) -> int | None:
    try:
        value = signing.Signer(salt=POSTER_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() and len(value) < 12 else None


def report_url_for(grid) -> str:
    return reverse("m:tickets:report_public", args=[poster_token(grid)])


@phone_login_required
@require_GET
def poster(request, grid_id: int):
    """A grid's A4 poster: its name, its workers' names and the QR code that opens
    the residents' report form. For staff and grid workers of the area."""
    if not grid_permissions.can_view(request.user):
        raise PermissionDenied
    grid = (
        grid_selectors.region_list(actor=request.user, levels=(RegionLevel.GRID,))
        .select_related("parent")
        .filter(pk=grid_id)
        .first()
    )
    if grid is None:
        raise Http404
    workers = grid_selectors.grid_worker_names(actor=request.user, grid=grid)
    url = request.build_absolute_uri(report_url_for(grid))
    return render(
        request,
        "tickets/m/poster.html",
        {
            "grid": grid,
            "workers": workers,
            "report_url": url,
            "qr": qr_svg(url, scale=8, title=_("Scan to report a matter")),
        },
    )
