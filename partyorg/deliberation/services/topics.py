"""Topics: raising, screening (五议五不议) and recording the steps of a path."""

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import GRID_LEVELS, RegionLevel
from grids.cleaning import validated_save
from grids.errors import Conflict, DomainError
from grids.models import Region, Resident
from grids.notifications import notify
from grids.permissions import require, require_in_scope
from grids.photos import photo_from_upload
from grids.services import lock_in_scope

from ...models import PartyOrg
from .. import permissions
from ..choices import (
    ADMISSIBLE_KINDS,
    DECISION_STEPS,
    TICKET_PATH_KINDS,
    Step,
    TopicKind,
    TopicSource,
    TopicState,
    VoteState,
)
from ..models import (
    Council,
    Topic,
    TopicStep,
)
from .common import TOPIC_LEVELS, _community_of, _fresh_region, _text
from .councils import path_for

# --- Topics: raising and screening (五议五不议) ------------------------------------


def _topic_region(actor, region) -> tuple[Region, Region]:
    region = _fresh_region(region) if region is not None else None
    require_in_scope(actor, region)
    if region.level not in TOPIC_LEVELS:
        raise DomainError(
            _("A topic belongs to a community or a grid."), code="bad_region"
        )
    return region, _community_of(region)


def topic_raise(
    *,
    actor,
    region,
    title: str,
    description: str = "",
    source: str = TopicSource.GRID_WORKER,
    resident: Resident | None = None,
    party_org: PartyOrg | None = None,
    raising_council: Council | None = None,
) -> Topic:
    """收集问题: a topic raised in a community or grid, by a resident (recorded by
    the grid worker or staff), a grid worker, a party branch or a council."""
    require(permissions.can_raise_topic(actor))
    if source not in TopicSource.values or source == TopicSource.TICKET:
        raise DomainError(_("Say who raised the topic."), code="bad_source")
    with transaction.atomic():
        region, community = _topic_region(actor, region)
        if source == TopicSource.RESIDENT and resident is not None:
            resident = (
                Resident.objects.select_related("household__region")
                .filter(pk=resident.pk)
                .first()
            )
            if resident is None or not community.contains(resident.household.region):
                raise DomainError(
                    _("The resident does not live in this community."),
                    code="resident_elsewhere",
                )
        if source == TopicSource.PARTY_BRANCH:
            org = party_org and PartyOrg.objects.filter(pk=party_org.pk).first()
            if org is None or not (
                community.contains(org.region) or org.region.contains(community)
            ):
                raise DomainError(
                    _("Name the party branch of this community that raised it."),
                    code="bad_branch",
                )
        if source == TopicSource.COUNCIL:
            council = (
                raising_council
                and Council.objects.filter(pk=raising_council.pk)
                .select_related("region")
                .first()
            )
            if council is None or not community.contains(council.region):
                raise DomainError(
                    _("Name the council of this community that raised it."),
                    code="bad_council",
                )
        topic = Topic(
            region=region,
            community=community,
            title=_text(title, what=_("the topic"), limit=200),
            description=_text(
                description, what=_("the description"), required=False, limit=5000
            ),
            source=source,
            resident=resident if source == TopicSource.RESIDENT else None,
            party_org=party_org if source == TopicSource.PARTY_BRANCH else None,
            raising_council=(
                raising_council if source == TopicSource.COUNCIL else None
            ),
            path=path_for(community),
            raised_by=actor,
            raised_at=timezone.now(),
        )
        validated_save(topic)
    return topic


def topic_from_ticket(
    *, actor, ticket_id: int, title: str = "", description: str = ""
) -> Topic:
    """A recurring or shared problem on a ticket becomes a topic in one step,
    linked to it (one topic per ticket)."""
    from tickets.selectors import ticket_list

    require(permissions.can_raise_topic(actor))
    with transaction.atomic():
        ticket = (
            ticket_list(actor=actor)
            .select_related("region")
            .filter(pk=ticket_id)
            .first()
        )
        require_in_scope(actor, ticket.region if ticket else None)
        place = ticket.region
        if place.level in GRID_LEVELS and place.level != RegionLevel.GRID:
            place = place.ancestor_of_level(RegionLevel.GRID) or place
        if place.level not in TOPIC_LEVELS:
            raise DomainError(
                _("This ticket does not lie in a community or a grid."),
                code="bad_region",
            )
        region, community = _topic_region(actor, place)
        topic = Topic(
            region=region,
            community=community,
            title=_text(
                title or ticket.description.strip().splitlines()[0][:200],
                what=_("the topic"),
                limit=200,
            ),
            description=_text(
                description or ticket.description, what="", required=False
            )[:5000],
            source=TopicSource.TICKET,
            ticket=ticket,
            path=path_for(community),
            raised_by=actor,
            raised_at=timezone.now(),
        )
        validated_save(
            topic,
            conflict_message=_("This ticket is already a topic."),
            conflict_code="ticket_already_topic",
        )
    return topic


def _locked_topic(actor, topic_id: int) -> Topic:
    return lock_in_scope(
        Topic.objects.select_related("region", "community"),
        topic_id,
        actor=actor,
        region_of=lambda topic: topic.region,
    )


def refusal_message(kind: str) -> str:
    """What the raiser is told about a refused topic: the rule, and for a
    private dispute the path to take instead."""
    message = _("Not for deliberation (五不议): %(rule)s.") % {
        "rule": TopicKind(kind).label
    }
    if kind in TICKET_PATH_KINDS:
        message += " " + _(
            "Report it as a ticket or ask for mediation; it is handled there."
        )
    return message


def topic_screen(
    *, actor, topic_id: int, kind: str, note: str = "", council: Council | None = None
) -> Topic:
    """五议五不议: the screener picks the kind. An admissible topic goes to its
    path (with the council that will deliberate it); a refused one records the
    rule that refused it, and whoever raised it is told."""
    require(permissions.can_screen_topic(actor))
    if kind not in TopicKind.values:
        raise DomainError(_("Choose what kind of matter this is."), code="bad_kind")
    note = _text(note, what="", required=False, limit=2000)
    with transaction.atomic():
        topic = _locked_topic(actor, topic_id)
        if topic.state != TopicState.RAISED:
            raise Conflict(
                _("This topic is already screened."), code="already_screened"
            )
        if kind in ADMISSIBLE_KINDS:
            if council is not None:
                council = (
                    Council.objects.filter(pk=council.pk, is_active=True)
                    .select_related("region")
                    .first()
                )
                if council is None or not topic.community.contains(council.region):
                    raise DomainError(
                        _("Choose an active council of this community."),
                        code="bad_council",
                    )
            topic.state = TopicState.IN_PROGRESS
            topic.council = council
        else:
            topic.state = TopicState.REFUSED
        topic.kind, topic.screening_note = kind, note
        topic.screened_by, topic.screened_at = actor, timezone.now()
        topic.save(
            update_fields=[
                "state",
                "council",
                "kind",
                "screening_note",
                "screened_by",
                "screened_at",
            ]
        )
        if topic.state == TopicState.REFUSED:
            raiser_id, title, pk = topic.raised_by_id, topic.title, topic.pk
            body = refusal_message(kind) + (f"\n{note}" if note else "")
            transaction.on_commit(
                lambda: notify(
                    recipients=[raiser_id],
                    title=_("Topic not taken up: %(title)s") % {"title": title},
                    body=body,
                    url=reverse("m:party:topic_detail", args=[pk]),
                    dedupe_key=f"deliberation:topic:{pk}:refused",
                )
            )
    return topic


def topic_council_set(*, actor, topic_id: int, council_id: int) -> Topic:
    """Name (or change) the council that deliberates an admitted topic, while no
    vote of it is open."""
    require(permissions.can_screen_topic(actor))
    with transaction.atomic():
        topic = _locked_topic(actor, topic_id)
        if topic.state != TopicState.IN_PROGRESS:
            raise Conflict(_("This topic is not in deliberation."), code="wrong_state")
        council = (
            Council.objects.filter(pk=council_id, is_active=True)
            .select_related("region")
            .first()
        )
        if council is None or not topic.community.contains(council.region):
            raise DomainError(
                _("Choose an active council of this community."), code="bad_council"
            )
        if topic.vote_items.filter(state=VoteState.OPEN).exists():
            raise Conflict(_("A vote of this topic is open."), code="vote_open")
        topic.council = council
        topic.save(update_fields=["council"])
    return topic


# --- The steps of a path -------------------------------------------------------------


def topic_step_record(
    *,
    actor,
    topic_id: int,
    step: str,
    owner: str,
    participants: str,
    minutes: str,
    started_on,
    completed_on,
    attachment=None,
) -> TopicStep:
    """Record one step of a topic's path. Only the next step may be recorded: an
    earlier one is already recorded, a later one waits for the ones before it.
    The decision step needs a counted vote and no vote still open. The last step
    concludes the topic."""
    require(permissions.can_record_step(actor))
    owner = _text(owner, what=_("the owner"), limit=100)
    participants = _text(participants, what=_("the participants"), limit=5000)
    minutes = _text(minutes, what=_("the minutes"), limit=20000)
    if not started_on or not completed_on:
        raise DomainError(_("Give the dates of the step."), code="no_dates")
    if completed_on < started_on:
        raise DomainError(
            _("A step cannot end before it starts."), code="dates_reversed"
        )
    if completed_on > timezone.localdate():
        raise DomainError(_("A step cannot end in the future."), code="future")
    stored = photo_from_upload(attachment) if attachment else None
    with transaction.atomic():
        topic = _locked_topic(actor, topic_id)
        expected = topic.next_step
        if expected is None:
            raise Conflict(
                _("No step of this topic can be recorded now (%(state)s).")
                % {"state": TopicState(topic.state).label},
                code="wrong_state",
            )
        if step != expected:
            done = step in topic.steps[: topic.steps_done]
            raise Conflict(
                (
                    _("“%(step)s” is already recorded.")
                    if done
                    else _("Record “%(expected)s” first: a step cannot be skipped.")
                )
                % {
                    "step": Step(step).label if step in Step.values else step,
                    "expected": Step(expected).label,
                },
                code="step_recorded" if done else "step_skipped",
                extra={"expected": expected},
            )
        if step in DECISION_STEPS:
            items = topic.vote_items.values_list("state", flat=True)
            if VoteState.OPEN in items:
                raise Conflict(_("Count the open vote first."), code="vote_open")
            if VoteState.COUNTED not in items:
                raise Conflict(
                    _("This step decides by ballot: count a vote first."),
                    code="no_vote",
                )
        record = TopicStep(
            topic=topic,
            step=step,
            position=topic.steps_done,
            owner=owner,
            participants=participants,
            minutes=minutes,
            started_on=started_on,
            completed_on=completed_on,
            attachment=stored.content if stored else "",
            recorded_by=actor,
        )
        validated_save(
            record,
            conflict_message=_("This step was recorded a moment ago."),
            conflict_code="step_recorded",
        )
        topic.steps_done = F("steps_done") + 1
        fields = ["steps_done"]
        if record.position + 1 == len(topic.steps):
            topic.state, topic.concluded_at = TopicState.CONCLUDED, timezone.now()
            fields += ["state", "concluded_at"]
        topic.save(update_fields=fields)
        topic.refresh_from_db(fields=["steps_done"])
    return record
