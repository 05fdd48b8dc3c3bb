"""Writes of community deliberation (议事协商, seed 003): one function per use
case. Pages, the admin, the demo and the tests call these; nothing else writes a
council, a topic, a step record, a vote item or a ballot.

A topic is raised (by a resident through a grid worker, a grid worker, a party
branch, a council, or from a ticket), screened by 五议五不议 (``topic_screen``),
then each step of its path is recorded in order (``topic_step_record``): a step
is refused until the one before it is recorded. The decision step of each path
needs a counted vote (四步走: ``vote_item_open`` issues the ballots,
``ballot_cast`` casts one, ``vote_item_count`` counts against quorum and
majority and publishes the result).
"""

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import GRID_LEVELS, RegionLevel
from grids.cleaning import validated_save
from grids.errors import Conflict, DomainError
from grids.models import GridAssignment, GridWorker, Region, Resident
from grids.notifications import notify
from grids.permissions import require, require_in_scope
from grids.photos import photo_from_upload

from ..models import PartyMember, PartyOrg
from ..services.wishes import member_may_claim
from . import permissions
from .choices import (
    ADMISSIBLE_KINDS,
    DECISION_STEPS,
    DEFAULT_PATH,
    PATH_FOR_KIND,
    TICKET_PATH_KINDS,
    CommunityKind,
    CouncilKind,
    MemberSide,
    Step,
    TopicKind,
    TopicSource,
    TopicState,
    Vote,
    VoteResult,
    VoteState,
)
from .models import (
    Ballot,
    CommunityProfile,
    Council,
    CouncilMember,
    Topic,
    TopicStep,
    VoteItem,
)

TOPIC_LEVELS = (RegionLevel.COMMUNITY, RegionLevel.GRID)


def _fresh_region(region) -> Region | None:
    return Region.objects.filter(pk=getattr(region, "pk", region)).first()


def _community_of(region: Region) -> Region:
    community = region.ancestor_of_level(RegionLevel.COMMUNITY)
    if community is None:
        raise DomainError(
            _("This region does not lie in a community."), code="no_community"
        )
    return community


def _text(value, *, what: str, required: bool = True, limit: int | None = None):
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("Fill in %(what)s.") % {"what": what}, code="missing")
    if limit and len(value) > limit:
        raise DomainError(
            _("%(what)s is longer than %(limit)d characters.")
            % {"what": what, "limit": limit},
            code="too_long",
        )
    return value


# --- Community kind and councils ---------------------------------------------------


def community_kind_set(*, actor, community, kind: str) -> CommunityProfile:
    """Say what kind of place a community is; its new topics follow that path."""
    require(permissions.can_keep_councils(actor))
    if kind not in CommunityKind.values:
        raise DomainError(_("Choose the kind of community."), code="bad_kind")
    with transaction.atomic():
        community = _fresh_region(community)
        require_in_scope(actor, community)
        if community.level != RegionLevel.COMMUNITY:
            raise DomainError(_("Choose a community or village."), code="bad_region")
        profile, _created = CommunityProfile.objects.select_for_update().get_or_create(
            community=community, defaults={"kind": kind}
        )
        if profile.kind != kind:
            profile.kind = kind
            profile.save(update_fields=["kind"])
    return profile


def path_for(community: Region) -> str:
    """The path a new topic of ``community`` follows (by the community's kind)."""
    kind = (
        CommunityProfile.objects.filter(community=community)
        .values_list("kind", flat=True)
        .first()
    )
    return PATH_FOR_KIND[CommunityKind(kind)] if kind else DEFAULT_PATH


def council_create(
    *,
    actor,
    region,
    name: str,
    kind: str,
    secret_ballot: bool = False,
    quorum_percent: int = 66,
    majority_percent: int = 50,
) -> Council:
    """A council of a community (议事会, 五位一体, 四会) or of a grid (网格议事会)."""
    require(permissions.can_keep_councils(actor))
    with transaction.atomic():
        region = _fresh_region(region)
        require_in_scope(actor, region)
        wanted = RegionLevel.GRID if kind == CouncilKind.GRID else RegionLevel.COMMUNITY
        if region.level != wanted:
            raise DomainError(
                _("A grid council sits in a grid; the other councils in a community."),
                code="bad_region",
            )
        council = Council(
            region=region,
            name=_text(name, what=_("the name"), limit=100),
            kind=kind,
            secret_ballot=bool(secret_ballot),
            quorum_percent=quorum_percent,
            majority_percent=majority_percent,
        )
        validated_save(
            council,
            conflict_message=_("There is already a council of this name here."),
        )
    return council


COUNCIL_EDITABLE_FIELDS = (
    "name",
    "secret_ballot",
    "quorum_percent",
    "majority_percent",
    "is_active",
)


def council_update(*, actor, council_id: int, **changes) -> Council:
    """Rename a council, change its ballot rules or switch it off. A vote already
    open keeps the rules it opened with."""
    require(permissions.can_keep_councils(actor))
    unknown = set(changes) - set(COUNCIL_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(_("These fields cannot be changed here."), code="bad_field")
    with transaction.atomic():
        council = (
            Council.objects.select_for_update()
            .select_related("region")
            .filter(pk=council_id)
            .first()
        )
        require_in_scope(actor, council.region if council else None)
        for field, value in changes.items():
            setattr(council, field, value)
        validated_save(
            council,
            update_fields=list(changes),
            conflict_message=_("There is already a council of this name here."),
        )
    return council


def _person_in_community(*, community, grid_worker, party_member, resident) -> bool:
    if resident is not None:
        return community.contains(resident.household.region)
    if party_member is not None:
        return member_may_claim(member=party_member, community=community)
    if grid_worker is not None:
        return GridAssignment.objects.filter(
            worker=grid_worker,
            ended_on__isnull=True,
            grid__tree_id=community.tree_id,
            grid__lft__gte=community.lft,
            grid__rght__lte=community.rght,
        ).exists()
    return True


def council_member_add(
    *,
    actor,
    council_id: int,
    side: str,
    name: str = "",
    grid_worker: GridWorker | None = None,
    party_member: PartyMember | None = None,
    resident: Resident | None = None,
) -> CouncilMember:
    """Seat a person on a council: from the roster, the party members or the
    households (one of them, living or serving in the council's community), or
    a unit's delegate by name. The account that casts ballots on the phone is
    the grid worker's or party member's own."""
    require(permissions.can_keep_councils(actor))
    if side not in MemberSide.values:
        raise DomainError(_("Say whom the member speaks for."), code="bad_side")
    linked = [p for p in (grid_worker, party_member, resident) if p is not None]
    if len(linked) > 1:
        raise DomainError(
            _("Choose one person: a grid worker, a party member or a resident."),
            code="two_people",
        )
    with transaction.atomic():
        council = (
            Council.objects.select_for_update()
            .select_related("region")
            .filter(pk=council_id)
            .first()
        )
        require_in_scope(actor, council.region if council else None)
        if not council.is_active:
            raise Conflict(_("This council is switched off."), code="council_inactive")
        community = _community_of(council.region)
        given = bool(linked)
        if resident is not None:
            resident = (
                Resident.objects.select_related("household__region")
                .filter(pk=resident.pk, is_active=True)
                .first()
            )
        if party_member is not None:
            party_member = (
                PartyMember.objects.select_related("organisation__region")
                .filter(pk=party_member.pk, is_active=True)
                .first()
            )
        if given and not (grid_worker or party_member or resident):
            raise DomainError(_("This person is no longer on the lists."), code="gone")
        if not _person_in_community(
            community=community,
            grid_worker=grid_worker,
            party_member=party_member,
            resident=resident,
        ):
            raise DomainError(
                _("This person neither lives nor serves in the council's community."),
                code="not_in_community",
            )
        person = grid_worker or party_member or resident
        user_id = getattr(grid_worker or party_member, "user_id", None)
        member = CouncilMember(
            council=council,
            side=side,
            name=_text(
                name or getattr(person, "name", ""), what=_("the name"), limit=50
            ),
            grid_worker=grid_worker,
            party_member=party_member,
            resident=resident,
            user_id=user_id,
        )
        validated_save(
            member, conflict_message=_("This person already has a seat on the council.")
        )
    return member


def council_member_remove(*, actor, member_id: int) -> CouncilMember:
    """Take a seat away (kept, inactive): ballots already issued stay valid."""
    require(permissions.can_keep_councils(actor))
    with transaction.atomic():
        member = (
            CouncilMember.objects.select_for_update()
            .select_related("council__region")
            .filter(pk=member_id)
            .first()
        )
        require_in_scope(actor, member.council.region if member else None)
        if member.is_active:
            member.is_active = False
            member.save(update_fields=["is_active"])
    return member


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
    topic = (
        Topic.objects.select_for_update()
        .select_related("region", "community")
        .filter(pk=topic_id)
        .first()
    )
    require_in_scope(actor, topic.region if topic else None)
    return topic


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


# --- Decision 四步走: vote items and ballots ----------------------------------------


def vote_item_open(*, actor, topic_id: int, text: str) -> VoteItem:
    """总结归纳形成表决事项, 发放表决票: the matter put to the vote, and one ballot
    for each active member of the topic's council. Only at the decision step."""
    require(permissions.can_run_vote(actor))
    text = _text(text, what=_("the matter put to the vote"), limit=300)
    with transaction.atomic():
        topic = _locked_topic(actor, topic_id)
        if topic.next_step not in DECISION_STEPS:
            raise Conflict(
                _("A vote is held at the decision step of the path."),
                code="not_decision_step",
            )
        council = (
            Council.objects.select_for_update().filter(pk=topic.council_id).first()
        )
        if council is None or not council.is_active:
            raise Conflict(
                _("Name an active council for this topic first."), code="no_council"
            )
        members = list(
            council.members.filter(is_active=True).values_list("pk", flat=True)
        )
        if not members:
            raise Conflict(_("The council has no members."), code="no_members")
        item = VoteItem.objects.create(
            topic=topic,
            council=council,
            text=text,
            secret=council.secret_ballot,
            eligible_count=len(members),
            quorum_percent=council.quorum_percent,
            majority_percent=council.majority_percent,
            opened_by=actor,
            opened_at=timezone.now(),
        )
        Ballot.objects.bulk_create(Ballot(item=item, member_id=m) for m in members)
    return item


VOTE_FIELD = {
    Vote.FOR: "votes_for",
    Vote.AGAINST: "votes_against",
    Vote.ABSTAIN: "votes_abstain",
}


def ballot_cast(*, actor, ballot_id: int, vote: str) -> Ballot:
    """Cast a ballot: once. The item's row is locked and the ballot is taken by a
    conditional UPDATE, so of two submissions of the same ballot (a double tap,
    two phones) one counts and the other is refused; the count and the ballot
    change in the same transaction. A secret ballot keeps no choice."""
    if vote not in Vote.values:
        raise DomainError(_("Choose for, against or abstain."), code="bad_vote")
    with transaction.atomic():
        ballot = (
            Ballot.objects.select_related("member", "item__topic__region")
            .filter(pk=ballot_id)
            .first()
        )
        if ballot is None:
            require_in_scope(actor, None)
        if ballot.member.user_id is None or ballot.member.user_id != actor.pk:
            # Another member's ballot: staff in scope record paper ballots; to
            # anybody else it does not exist, or is not theirs to cast.
            require_in_scope(actor, ballot.item.topic.region)
            require(permissions.can_run_vote(actor))
        item = VoteItem.objects.select_for_update().get(pk=ballot.item_id)
        if item.state != VoteState.OPEN:
            raise Conflict(_("This vote is already counted."), code="vote_counted")
        taken = Ballot.objects.filter(pk=ballot.pk, cast_at__isnull=True).update(
            cast_at=timezone.now(),
            vote="" if item.secret else vote,
            recorded_by=actor,
        )
        if taken != 1:
            raise Conflict(
                _("This ballot is already cast; a second one is refused."),
                code="already_cast",
            )
        field = VOTE_FIELD[Vote(vote)]
        VoteItem.objects.filter(pk=item.pk).update(**{field: F(field) + 1})
        ballot.refresh_from_db()
    return ballot


def vote_result(
    *,
    eligible: int,
    votes_for: int,
    against: int,
    abstain: int,
    quorum: int,
    majority: int,
) -> str:
    """计票: the result of a count. Valid when at least ``quorum`` % of the
    ballots issued were cast; passed with more than ``majority`` % of the ballots
    cast for it; for = against (and some cast either way) is a tie, not passed."""
    cast = votes_for + against + abstain
    if eligible == 0 or cast * 100 < eligible * quorum:
        return VoteResult.NO_QUORUM
    if votes_for * 100 > cast * majority:
        return VoteResult.PASSED
    if votes_for == against and votes_for > 0:
        return VoteResult.TIED
    return VoteResult.REJECTED


def vote_item_count(*, actor, item_id: int) -> VoteItem:
    """计票、公布结果: close the vote, count it against the quorum and majority it
    opened with, and publish the result (on the community's notice page)."""
    require(permissions.can_run_vote(actor))
    with transaction.atomic():
        item = (
            VoteItem.objects.select_for_update()
            .select_related("topic__region")
            .filter(pk=item_id)
            .first()
        )
        require_in_scope(actor, item.topic.region if item else None)
        if item.state != VoteState.OPEN:
            raise Conflict(_("This vote is already counted."), code="vote_counted")
        item.result = vote_result(
            eligible=item.eligible_count,
            votes_for=item.votes_for,
            against=item.votes_against,
            abstain=item.votes_abstain,
            quorum=item.quorum_percent,
            majority=item.majority_percent,
        )
        item.state, item.counted_at = VoteState.COUNTED, timezone.now()
        item.save(update_fields=["result", "state", "counted_at"])
    return item
