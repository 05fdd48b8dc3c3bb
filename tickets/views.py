"""Public pages of the tickets app: the resident's evaluation link (no account)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from grids.errors import DomainError

from .choices import RESIDENT_VERDICTS, Verdict
from .services import evaluation


@never_cache
@require_http_methods(["GET", "POST"])
def evaluate(request, ticket_id: int, token: str):
    """评单 by the resident through the signed link; also takes a later message."""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "message":
                evaluation.ticket_reporter_message(
                    ticket_id=ticket_id, token=token, text=request.POST.get("text", "")
                )
                messages.success(request, _("Your message was sent. Thank you."))
            else:
                evaluation.ticket_evaluate_by_link(
                    ticket_id=ticket_id,
                    token=token,
                    verdict=request.POST.get("verdict", ""),
                    comment=request.POST.get("comment", ""),
                )
                messages.success(request, _("Thank you for your verdict."))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect(request.path)
    try:
        state = evaluation.evaluation_link_state(ticket_id=ticket_id, token=token)
    except DomainError as exc:
        return render(
            request,
            "tickets/evaluation_form.html",
            {"error": exc.message},
            status=400 if exc.code != "link_expired" else 410,
        )
    return render(
        request,
        "tickets/evaluation_form.html",
        {
            **state,
            "verdicts": [(v, Verdict(v).label) for v in RESIDENT_VERDICTS],
        },
    )
