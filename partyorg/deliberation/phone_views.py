"""Phone pages of community deliberation (/m/party/deliberation/): grid workers
and staff raise topics and record their steps; staff screen, open votes, record
paper ballots and count; council members cast their own ballots. Reads through
scoped selectors, writes through services; another area's topic is a 404."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from grids import permissions as grid_permissions
from grids.phone import phone_login_required, run_form

from ..microprojects.permissions import can_propose as may_propose_project
from ..whistle.permissions import can_blow_whistle
from . import permissions, selectors, services
from .choices import (
    DECISION_STEPS,
    MEETING_RULES,
    PUBLIC_STEPS,
    Step,
    TopicState,
    VoteState,
)
from .forms import BallotForm, ScreenForm, StepRecordForm, TopicRaiseForm, VoteOpenForm


def _require_viewer(request) -> None:
    if not grid_permissions.can_view(request.user):
        raise PermissionDenied


@phone_login_required
def topic_list(request):
    """The topics of the user's area, the open ones first."""
    _require_viewer(request)
    state = request.GET.get("state", "")
    topics = selectors.topic_list(actor=request.user)
    if state in TopicState.values:
        topics = topics.filter(state=state)
    else:
        topics = topics.filter(state__in=(TopicState.RAISED, TopicState.IN_PROGRESS))
    return render(
        request,
        "partyorg/deliberation/m/topic_list.html",
        {
            "topics": topics[:200],
            "states": TopicState.choices,
            "state": state,
            "may_raise": permissions.can_raise_topic(request.user),
        },
    )


@phone_login_required
def topic_new(request):
    """收集问题: raise a topic from the phone (for a resident, or as a worker)."""
    if not permissions.can_raise_topic(request.user):
        raise Http404
    form = TopicRaiseForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():

        def run() -> str:
            topic = services.topic_raise(actor=request.user, **form.cleaned_data)
            return reverse("m:party:topic_detail", args=[topic.pk])

        response = run_form(
            request,
            scope="deliberation:topic_new",
            run=run,
            success_message=_("The topic is raised."),
        )
        if response is not None:
            return response
    return render(request, "partyorg/deliberation/m/topic_new.html", {"form": form})


@phone_login_required
def topic_from_ticket_find(request):
    """Find a ticket of the user's area by its number (``?number=``) and go to
    the page that makes it a topic."""
    from django.contrib import messages

    from tickets.selectors import ticket_list

    if not permissions.can_raise_topic(request.user):
        raise Http404
    number = (request.GET.get("number") or "").strip()[:40]
    ticket_id = (
        ticket_list(actor=request.user)
        .filter(number=number)
        .values_list("pk", flat=True)
        .first()
        if number
        else None
    )
    if ticket_id is None:
        messages.error(request, _("No ticket of your area has this number."))
        return redirect("m:party:topic_new")
    return redirect("m:party:topic_from_ticket", ticket_id=ticket_id)


@phone_login_required
def topic_from_ticket(request, ticket_id: int):
    """A ticket becomes a topic in one step (a POST: the button on the ticket's
    pages, staff and phone). Idempotent: once the ticket has its topic, any
    request goes to it."""
    from tickets.selectors import ticket_list

    if not ticket_list(actor=request.user).filter(pk=ticket_id).exists():
        raise Http404
    existing = (
        selectors.topic_list(actor=request.user)
        .filter(ticket_id=ticket_id)
        .values_list("pk", flat=True)
        .first()
    )
    if existing is not None:
        return redirect("m:party:topic_detail", topic_id=existing)
    if not permissions.can_raise_topic(request.user):
        raise Http404
    if request.method != "POST":
        return render(
            request,
            "partyorg/deliberation/m/topic_from_ticket.html",
            {"ticket_id": ticket_id},
        )

    def run() -> str:
        topic = services.topic_from_ticket(actor=request.user, ticket_id=ticket_id)
        return reverse("m:party:topic_detail", args=[topic.pk])

    response = run_form(
        request,
        scope=f"deliberation:from_ticket:{ticket_id}",
        run=run,
        success_message=_("The topic is raised."),
    )
    if response is None:
        return redirect("m:party:topic_list")
    return response


def _topic_actions(request, topic):
    """The forms of the topic's next steps that this user may take, bound to
    the POST when it is theirs (``form`` names which one was sent)."""
    user = request.user
    sent = request.POST.get("form") if request.method == "POST" else None
    data = request.POST if sent else None
    forms = {}
    if topic.state == TopicState.RAISED and permissions.can_screen_topic(user):
        forms["screen"] = ScreenForm(
            data if sent == "screen" else None,
            councils=selectors.councils_for_topic(topic=topic),
        )
    step = topic.next_step
    if step and permissions.can_record_step(user):
        forms["record"] = StepRecordForm(
            data if sent == "record" else None,
            request.FILES if sent == "record" else None,
            prefix="record",
        )
    if (
        step in DECISION_STEPS
        and permissions.can_run_vote(user)
        and not topic.vote_items.filter(state=VoteState.OPEN).exists()
    ):
        forms["open_vote"] = VoteOpenForm(data if sent == "open_vote" else None)
    return sent, forms


def _run_topic_action(request, topic, sent, form) -> str:
    user, data = request.user, form.cleaned_data
    if sent == "screen":
        services.topic_screen(actor=user, topic_id=topic.pk, **data)
    elif sent == "record":
        services.topic_step_record(
            actor=user, topic_id=topic.pk, step=request.POST.get("step", ""), **data
        )
    elif sent == "open_vote":
        services.vote_item_open(actor=user, topic_id=topic.pk, text=data["text"])
    return reverse("m:party:topic_detail", args=[topic.pk])


@phone_login_required
def topic_detail(request, topic_id: int):
    """One topic: its path with the recorded steps, the meeting rules, the form
    of its next step, its votes (open ones with paper ballots and counting)."""
    _require_viewer(request)
    topic = selectors.topic_detail(actor=request.user, topic_id=topic_id)
    if topic is None:
        raise Http404
    sent, forms = _topic_actions(request, topic)
    if sent in ("count", "paper_ballot") and request.method == "POST":
        response = _vote_post(request, topic, sent)
        if response is not None:
            return response
    elif sent in forms and forms[sent].is_valid():
        response = run_form(
            request,
            scope=f"deliberation:topic:{topic.pk}:{sent}",
            run=lambda: _run_topic_action(request, topic, sent, forms[sent]),
            success_message=_("Saved."),
        )
        if response is not None:
            return response
    records = {r.step: r for r in topic.records.select_related("recorded_by")}
    path = [
        {
            "label": Step(step).label,
            "record": records.get(step),
            "next": step == topic.next_step,
        }
        for step in topic.steps
    ]
    items = list(topic.vote_items.select_related("council"))
    open_ballots = {}
    if permissions.can_run_vote(request.user):
        open_ballots = {
            item.pk: list(
                item.ballots.filter(cast_at__isnull=True).select_related("member")
            )
            for item in items
            if item.state == VoteState.OPEN
        }
    for item in items:
        item.paper_ballots = open_ballots.get(item.pk, [])
    return render(
        request,
        "partyorg/deliberation/m/topic_detail.html",
        {
            "topic": topic,
            "path": path,
            "forms": forms,
            "items": items,
            "meeting_rules": MEETING_RULES,
            "may_run_vote": permissions.can_run_vote(request.user),
            "votes": BallotForm().fields["vote"].choices,
            "is_decision": topic.next_step in DECISION_STEPS,
            # 吹哨报到 from an admitted topic (partyorg.whistle, same app).
            "may_blow": topic.state in (TopicState.IN_PROGRESS, TopicState.CONCLUDED)
            and can_blow_whistle(request.user),
            # 民生微实事 from the topic's published outcome.
            "may_propose_project": may_propose_project(request.user)
            and any(step in PUBLIC_STEPS for step in records),
        },
    )


def _vote_post(request, topic, sent):
    """Count a vote, or record a paper ballot (staff)."""
    item_id = request.POST.get("item", "")
    item = topic.vote_items.filter(pk=int(item_id) if item_id.isdigit() else 0).first()
    if item is None:
        raise Http404

    def run() -> str:
        if sent == "count":
            services.vote_item_count(actor=request.user, item_id=item.pk)
        else:
            ballot_id = request.POST.get("ballot", "")
            ballot = item.ballots.filter(
                pk=int(ballot_id) if ballot_id.isdigit() else 0
            ).first()
            if ballot is None:
                raise Http404
            services.ballot_cast(
                actor=request.user,
                ballot_id=ballot.pk,
                vote=request.POST.get("vote", ""),
            )
        return reverse("m:party:topic_detail", args=[topic.pk])

    return run_form(
        request,
        scope=f"deliberation:vote:{item.pk}:{sent}",
        run=run,
        success_message=_("Saved."),
    )


@phone_login_required
def ballot_list(request):
    """A council member's ballots (their own seats only)."""
    ballots = selectors.ballots_of(user=request.user)[:100]
    return render(
        request, "partyorg/deliberation/m/ballot_list.html", {"ballots": ballots}
    )


@phone_login_required
def ballot_detail(request, ballot_id: int):
    """Cast one's ballot (发放表决票 → 投票)."""
    ballot = selectors.ballot_detail(actor=request.user, ballot_id=ballot_id)
    if ballot is None:
        raise Http404
    form = BallotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():

        def run() -> str:
            services.ballot_cast(
                actor=request.user, ballot_id=ballot.pk, vote=form.cleaned_data["vote"]
            )
            return reverse("m:party:ballot_detail", args=[ballot.pk])

        response = run_form(
            request,
            scope=f"deliberation:ballot:{ballot.pk}",
            run=run,
            success_message=_("Your ballot is cast."),
        )
        if response is not None:
            return response
    return render(
        request,
        "partyorg/deliberation/m/ballot_detail.html",
        {"ballot": ballot, "form": form, "item": ballot.item},
    )
