"""The phone pages of the grids app (/m/grid/): the inbox (notices, mark read,
open). A user only ever sees and opens their own messages."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .models import Notification
from .notifications import notification_open, notifications_mark_read
from .phone import phone_login_required

PAGE_SIZE = 30
# Admin pages a notice may link to, and the phone page that shows the same thing
# to an account without admin access (URL names, not imports).
PHONE_EQUIVALENTS = {"admin:tickets_ticket_change": "m:tickets:detail"}


def _phone_link(user, url: str) -> str:
    """The phone page for ``url`` when the user cannot open the admin."""
    if not url or user.is_staff:
        return url
    try:
        match = resolve(url.split("?")[0])
    except Resolver404:
        return url
    target = PHONE_EQUIVALENTS.get(match.view_name)
    if target is None:
        return url
    try:
        return reverse(target, args=match.args or [match.kwargs.get("object_id")])
    except NoReverseMatch:
        return url


@phone_login_required
def inbox(request):
    page = Paginator(
        Notification.objects.filter(recipient=request.user, channel="in_app")
        .only("pk", "title", "body", "url", "created_at", "read_at")
        .order_by("-created_at", "-pk"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(request, "grids/m/inbox.html", {"page": page})


@require_POST
@phone_login_required
def inbox_mark_read(request):
    count = notifications_mark_read(user=request.user)
    messages.success(request, _("%(count)d notices marked read.") % {"count": count})
    return redirect("m:grid:inbox")


@require_POST
@phone_login_required
def inbox_open(request, notification_id: int):
    """Open one of my notices: marked read, then its link (or back to the inbox)."""
    target = notification_open(user=request.user, notification_id=notification_id)
    if target is None:
        raise Http404
    link = _phone_link(request.user, target)
    return HttpResponseRedirect(link or reverse("m:grid:inbox"))
