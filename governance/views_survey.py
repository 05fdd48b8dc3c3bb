"""Pages of the residents' survey (以下评上): the public answer page a signed
link opens (no account, phone layout) and the staff's results per grid and
period (scoped to their area)."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from grids import permissions as grid_permissions
from grids.errors import DomainError, OutOfScope
from grids.models import Region

from . import survey
from .models import SurveyPeriod, SurveyScore

ITEMS = (
    ("attitude", gettext_lazy("Work attitude")),
    ("conduct", gettext_lazy("Work style")),
    ("effect", gettext_lazy("Service results")),
)


def _posted(request, name: str) -> str:
    return request.POST.get(name, "")[:2000].replace("\x00", "")


@never_cache
@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    """One respondent's survey of their grid's workers for the link's period."""
    if request.method == "POST":
        try:
            survey.survey_answer_submit(
                token=token,
                attitude=_posted(request, "attitude"),
                conduct=_posted(request, "conduct"),
                effect=_posted(request, "effect"),
                comment=_posted(request, "comment"),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            if exc.code in ("link_invalid", "link_expired"):
                return redirect(request.path)
        else:
            messages.success(request, _("Thank you: your answer was recorded."))
        return redirect(request.path)
    try:
        state = survey.survey_state(token=token)
    except DomainError as exc:
        return render(
            request,
            "governance/survey/answer.html",
            {"error": exc.message},
            status=410 if exc.code == "link_expired" else 404,
        )
    return render(
        request,
        "governance/survey/answer.html",
        {
            **state,
            "items": [
                (name, label, request.POST.get(name, "")) for name, label in ITEMS
            ],
            "scores": SurveyScore.choices,
        },
    )


def _parse_period(value: str, kind: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value) if value else dt.date.today()
    except ValueError:
        day = dt.date.today()
    return survey.period_start(day, kind)


@login_required
@require_GET
def results(request):
    """Survey results per grid of a region (the user's own by default) and
    period: answers and the mean of each item."""
    user = request.user
    if not grid_permissions.can_view(user):
        raise Http404
    kind = request.GET.get("period_kind", SurveyPeriod.MONTH)
    if kind not in SurveyPeriod.values:
        kind = SurveyPeriod.MONTH
    start = _parse_period(request.GET.get("period", ""), kind)
    region_id = request.GET.get("region", "")
    if region_id.isdigit():
        region = Region.objects.filter(pk=int(region_id)).first()
    else:
        region = user.scope_region if not user.is_superuser else None
        if region is None:
            region = Region.objects.filter(parent=None).order_by("tree_id").first()
    if region is None:
        raise Http404
    try:
        rows = survey.survey_results(actor=user, region=region, start=start, kind=kind)
    except OutOfScope:
        raise Http404 from None
    return render(
        request,
        "governance/survey/results.html",
        {
            "region": region,
            "rows": rows,
            "period": survey.period_label(start, kind),
            "period_start": start,
            "period_kind": kind,
            "kinds": SurveyPeriod.choices,
        },
    )
