"""Decision 四步走: vote items, ballots, counting."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.errors import Conflict, DomainError
from grids.permissions import require, require_in_scope
from grids.services import lock_in_scope

from .. import permissions
from ..choices import (
    DECISION_STEPS,
    Vote,
    VoteResult,
    VoteState,
)
from ..models import (
    Ballot,
    Council,
    VoteItem,
)
from .common import _text
from .topics import _locked_topic

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
        item = lock_in_scope(
            VoteItem.objects.select_related("topic__region"),
            item_id,
            actor=actor,
            region_of=lambda item: item.topic.region,
        )
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
