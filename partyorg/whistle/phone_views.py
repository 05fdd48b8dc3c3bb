"""Phone pages of 吹哨报到 (/m/party/whistles/): a grid worker or community
staff blows the whistle and, on site, records who arrived. A whistle outside
the user's area is a 404."""

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from grids import permissions as grid_permissions
from grids.params import parse_id
from grids.phone import phone_login_required, run_form

from . import permissions, selectors, services
from .choices import CallStatus
from .forms import WhistleBlowForm


@phone_login_required
def whistle_list(request):
    if not grid_permissions.can_view(request.user):
        raise PermissionDenied
    whistles = selectors.whistle_list(actor=request.user).annotate(
        pending=Count("calls", filter=Q(calls__status=CallStatus.PENDING)),
        called=Count("calls"),
    )
    return render(
        request,
        "partyorg/whistle/m/whistle_list.html",
        {
            "whistles": whistles.order_by("-blown_at", "-pk")[:100],
            "may_blow": permissions.can_blow_whistle(request.user),
        },
    )


@phone_login_required
def whistle_new(request):
    """网格吹哨 from the phone."""
    if not permissions.can_blow_whistle(request.user):
        raise Http404
    form = WhistleBlowForm(request.POST or None, user=request.user)
    topic = None
    if request.method != "POST" and (topic_id := parse_id(request.GET.get("topic"))):
        # From a topic's page: the topic (in the user's area) named on the form.
        topic = form.fields["topic"].queryset.filter(pk=topic_id).first()
        if topic is None:
            raise Http404
        form.initial.update(
            topic=topic.pk, region=topic.region_id, title=topic.title[:200]
        )
    elif request.method == "POST" and form.is_valid():
        topic = form.cleaned_data["topic"]

        def run() -> str:
            whistle = services.whistle_blow(actor=request.user, **form.cleaned_data)
            return reverse("m:party:whistle_detail", args=[whistle.pk])

        response = run_form(
            request,
            scope="partyorg:whistle_new",
            run=run,
            success_message=_("The whistle is blown."),
        )
        if response is not None:
            return response
    elif request.method == "POST":
        topic = (
            form.fields["topic"]
            .queryset.filter(pk=parse_id(request.POST.get("topic")))
            .first()
        )
    return render(
        request, "partyorg/whistle/m/whistle_new.html", {"form": form, "topic": topic}
    )


@phone_login_required
def whistle_detail(request, whistle_id: int):
    """One whistle, who was summoned, and a button per pending summons to
    record the arrival (报到) on site."""
    if not grid_permissions.can_view(request.user):
        raise PermissionDenied
    whistle = selectors.whistle_detail(actor=request.user, whistle_id=whistle_id)
    if whistle is None:
        raise Http404
    if request.method == "POST":
        call_id = parse_id(request.POST.get("call"))
        if call_id is None or not whistle.calls.filter(pk=call_id).exists():
            raise Http404

        def run() -> str:
            services.whistle_call_arrive(actor=request.user, call_id=call_id)
            return reverse("m:party:whistle_detail", args=[whistle.pk])

        response = run_form(
            request,
            scope=f"partyorg:whistle_arrive:{call_id}",
            run=run,
            success_message=_("The arrival is recorded."),
        )
        if response is not None:
            return response
        return redirect("m:party:whistle_detail", whistle_id=whistle.pk)
    calls = list(selectors.whistle_calls(whistle=whistle))
    for call in calls:
        call.may_arrive = call.status == CallStatus.PENDING and (
            permissions.may_record_arrival(request.user, call)
        )
    return render(
        request,
        "partyorg/whistle/m/whistle_detail.html",
        {"whistle": whistle, "calls": calls},
    )
