"""The residents' pages (码上办, no account): the report form a grid's QR poster
opens, and the signed tracking link the resident gets back. Each submission is
idempotent (the form's key), rate-limited and spam-checked (``field_forms`` and
``services.selfreport``)."""

from axes.helpers import get_client_ip_address
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from grids.errors import DomainError
from grids.phone import run_form

from . import services
from .field_forms import SelfReportForm
from .phone_field import grid_from_poster_token
from .services.selfreport import self_report_grids


@never_cache
@require_http_methods(["GET", "POST"])
def report_public(request, token: str):
    """The report form of one grid: category, description, photos, location,
    phone. A report lands in the street's triage queue as 群众自报."""
    grid_id = grid_from_poster_token(token)
    grid = self_report_grids().filter(pk=grid_id).first() if grid_id else None
    if grid is None:
        raise Http404
    if request.method == "POST":
        form = SelfReportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data

            def run():
                ticket = services.ticket_self_report(
                    grid_id=grid.pk,
                    category=data["category"],
                    description=data["description"],
                    address=data["address"],
                    phone=data["phone"],
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    photos=data["photos"],
                    client_ip=get_client_ip_address(request) or "",
                )
                return services.tracking_url(ticket=ticket)

            response = run_form(
                request,
                scope="tickets.self_report",
                run=run,
                success_message=_(
                    "Your report was received. Keep this page's address to follow it."
                ),
            )
            if response is not None:
                return response
    else:
        form = SelfReportForm()
    return render(request, "tickets/m/report_public.html", {"form": form, "grid": grid})


@never_cache
@require_GET
def track(request, ticket_id: int, token: str):
    """The resident's view of their report: stages and the public result, and
    the evaluation link once it is handled."""
    try:
        state = services.tracking_state(ticket_id=ticket_id, token=token)
    except DomainError as exc:
        return render(
            request,
            "tickets/m/track.html",
            {"error": exc.message},
            status=410 if exc.code == "link_expired" else 404,
        )
    return render(
        request,
        "tickets/m/track.html",
        {**state, "tracking_url": request.build_absolute_uri()},
    )
