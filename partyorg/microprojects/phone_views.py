"""Phone pages of 民生微实事 (/m/party/projects/): grid workers and staff list
the projects of their area, record a resident's order (群众点单) or a topic's
published outcome as a project, and staff record a milestone with a photo while
the work runs. Reads through scoped selectors, writes through the services;
another area's project is a 404."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from grids import permissions as grid_permissions
from grids.params import parse_id
from grids.phone import phone_login_required, run_form

from . import permissions, selectors, services
from .choices import ProjectState
from .forms import MilestoneForm, ProposeForm


@phone_login_required
def project_list(request):
    """The projects of the user's area; ``?state=`` narrows them."""
    if not grid_permissions.can_view(request.user):
        raise PermissionDenied
    state = request.GET.get("state", "")
    projects = selectors.micro_project_list(actor=request.user)
    if state in ProjectState.values:
        projects = projects.filter(state=state)
    return render(
        request,
        "partyorg/microprojects/m/project_list.html",
        {
            "projects": projects.order_by("-created_at", "-pk")[:200],
            "states": ProjectState.choices,
            "state": state,
            "may_propose": permissions.can_propose(request.user),
        },
    )


@phone_login_required
def project_new(request):
    """群众点单 from the phone, or a topic's published outcome (``?topic=``)."""
    if not permissions.can_propose(request.user):
        raise Http404
    form = ProposeForm(request.POST or None, user=request.user)
    topic = None
    if request.method == "POST":
        topic_id = parse_id(request.POST.get("topic"))
    else:
        topic_id = parse_id(request.GET.get("topic"))
    if topic_id is not None:
        topic = form.fields["topic"].queryset.filter(pk=topic_id).first()
        if topic is None:
            raise Http404
        if request.method != "POST":
            form.initial.update(
                topic=topic.pk, region=topic.region_id, title=topic.title[:200]
            )
    if request.method == "POST" and form.is_valid():

        def run() -> str:
            project = services.micro_project_propose(
                actor=request.user, **form.cleaned_data
            )
            return reverse("m:party:project_detail", args=[project.pk])

        response = run_form(
            request,
            scope="partyorg:project_new",
            run=run,
            success_message=_("The micro-project is proposed."),
        )
        if response is not None:
            return response
    return render(
        request,
        "partyorg/microprojects/m/project_new.html",
        {"form": form, "topic": topic},
    )


@phone_login_required
def project_detail(request, project_id: int):
    """One project: its state, money, milestones, and (staff, while the work
    runs) the form that records a milestone with a photo."""
    if not grid_permissions.can_view(request.user):
        raise PermissionDenied
    project = selectors.micro_project_detail(actor=request.user, project_id=project_id)
    if project is None:
        raise Http404
    may_record = (
        project.state == ProjectState.IN_PROGRESS
        and permissions.can_record_milestone(request.user)
    )
    form = None
    if may_record:
        form = MilestoneForm(request.POST or None, request.FILES or None)
    elif request.method == "POST":
        raise Http404
    if request.method == "POST" and form.is_valid():

        def run() -> str:
            services.micro_project_milestone_add(
                actor=request.user, project_id=project.pk, **form.cleaned_data
            )
            return reverse("m:party:project_detail", args=[project.pk])

        response = run_form(
            request,
            scope=f"partyorg:project_milestone:{project.pk}",
            run=run,
            success_message=_("The milestone is recorded."),
        )
        if response is not None:
            return response
    return render(
        request,
        "partyorg/microprojects/m/project_detail.html",
        {"project": project, "form": form, "milestones": project.milestones.all()},
    )
