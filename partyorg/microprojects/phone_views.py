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
from .choices import ProjectAction, ProjectState
from .forms import STEP_FORMS, MilestoneForm, ProposeForm


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


def _step_forms(request, project):
    """The forms of the steps this user may take on the project now (one per
    step, ``micro_project_steps_for``), and the step sent by a POST (its
    ``form`` field) with its form bound. A step the user's role allows but the
    state no longer does (a stale page) is still bound, so that the service
    refuses it with its message; a step of another role is a 404."""
    user = request.user
    sent = request.POST.get("form", "") if request.method == "POST" else ""
    forms = {
        action: STEP_FORMS[action](auto_id=f"id_{action}_%s")
        for action in permissions.micro_project_steps_for(user, project)
    }
    if not sent:
        return None, forms
    if sent not in STEP_FORMS or not permissions.can_take_step(user, sent):
        raise Http404
    action = ProjectAction(sent)
    forms[action] = STEP_FORMS[action](request.POST, auto_id=f"id_{action}_%s")
    return action, forms


@phone_login_required
def project_detail(request, project_id: int):
    """One project: its state, money, milestones; the forms of the steps the
    user may take now (staff screen, refuse and start; the street approves the
    budget and accepts the work with the money spent and the result), and
    (staff, while the work runs) the form that records a milestone."""
    if not grid_permissions.can_view(request.user):
        raise PermissionDenied
    project = selectors.micro_project_detail(actor=request.user, project_id=project_id)
    if project is None:
        raise Http404
    sent, step_forms = _step_forms(request, project)
    if sent is not None and step_forms[sent].is_valid():

        def run_step() -> str:
            services.micro_project_step(
                actor=request.user,
                project_id=project.pk,
                action=sent,
                **step_forms[sent].cleaned_data,
            )
            return reverse("m:party:project_detail", args=[project.pk])

        response = run_form(
            request,
            scope=f"partyorg:project_step:{project.pk}:{sent}",
            run=run_step,
            success_message=_("Saved."),
        )
        if response is not None:
            return response
    may_record = (
        project.state == ProjectState.IN_PROGRESS
        and permissions.can_record_milestone(request.user)
    )
    form = None
    if may_record:
        milestone_post = request.method == "POST" and sent is None
        form = MilestoneForm(
            request.POST if milestone_post else None,
            request.FILES if milestone_post else None,
        )
    elif request.method == "POST" and sent is None:
        raise Http404
    if sent is None and request.method == "POST" and form.is_valid():

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
        {
            "project": project,
            "form": form,
            "milestones": project.milestones.all(),
            "step_forms": list(step_forms.items()),
        },
    )
