"""Pages of the tickets app outside the admin: the resident's evaluation link
(no account), and the staff's "send the link by SMS" action of the ticket page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from grids.errors import DomainError

from .choices import RESIDENT_VERDICTS, Verdict
from .services import evaluation


def _posted_text(request, name: str) -> str:
    # PostgreSQL refuses NUL characters in text: drop them rather than fail.
    return request.POST.get(name, "").replace("\x00", "")


@never_cache
@require_http_methods(["GET", "POST"])
def evaluate(request, ticket_id: int, token: str):
    """评单 by the resident through the signed link; also takes a later message."""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "message":
                evaluation.ticket_reporter_message(
                    ticket_id=ticket_id, token=token, text=_posted_text(request, "text")
                )
                messages.success(request, _("Your message was sent. Thank you."))
            else:
                evaluation.ticket_evaluate_by_link(
                    ticket_id=ticket_id,
                    token=token,
                    verdict=_posted_text(request, "verdict"),
                    comment=_posted_text(request, "comment"),
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


@login_required
@require_POST
def evaluation_link_send(request, ticket_id: int):
    """Send the reporter their evaluation link by SMS, then back to the ticket."""
    try:
        outcome = evaluation.ticket_send_evaluation_link(
            actor=request.user,
            ticket_id=ticket_id,
            base_url=request.build_absolute_uri("/"),
            resend=bool(request.POST.get("resend")),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        values = {
            "phone": outcome.event.data["to"],
            "at": timezone.localtime(outcome.event.at).strftime("%H:%M"),
        }
        if outcome.sent:
            messages.success(
                request, _("The evaluation link was sent to %(phone)s.") % values
            )
        else:
            messages.warning(
                request,
                _(
                    "The link was already sent to %(phone)s at %(at)s, so it was "
                    "not sent twice. Tick “Send again” to send it once more."
                )
                % values,
            )
    return redirect(reverse("admin:tickets_ticket_change", args=[ticket_id]))
