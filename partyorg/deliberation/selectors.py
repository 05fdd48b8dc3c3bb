"""Reads of community deliberation: every list starts from the actor's scope;
the public notice page reads only what is published."""

import re

from django.db.models import Prefetch, QuerySet

from grids.choices import RegionLevel
from grids.masking import mask_id_number, mask_phone
from grids.models import Region

from .choices import PUBLIC_STEPS, TopicState, VoteState
from .models import Ballot, Council, Topic, TopicStep, VoteItem


def topic_list(*, actor) -> QuerySet:
    return Topic.objects.visible_to(actor).select_related("region", "community")


def topic_detail(*, actor, topic_id: int) -> Topic | None:
    return (
        topic_list(actor=actor)
        .select_related("council", "ticket", "resident", "party_org")
        .filter(pk=topic_id)
        .first()
    )


def council_list(*, actor) -> QuerySet:
    return Council.objects.visible_to(actor).select_related("region")


def councils_for_topic(*, topic: Topic) -> QuerySet:
    """The active councils of the topic's community (and its grids)."""
    community = topic.community
    return Council.objects.filter(
        is_active=True,
        region__tree_id=community.tree_id,
        region__lft__gte=community.lft,
        region__rght__lte=community.rght,
    ).order_by("name")


def ballots_of(*, user) -> QuerySet:
    """The ballots issued to the seats of ``user``'s account, open votes first."""
    return (
        Ballot.objects.filter(member__user=user, member__user__is_active=True)
        .select_related("item__topic", "member__council")
        .order_by("-item__state", "-item__opened_at", "pk")
    )


def ballot_detail(*, actor, ballot_id: int) -> Ballot | None:
    """A ballot its member's account may open, or staff in scope."""
    ballot = (
        Ballot.objects.select_related("item__topic__region", "member")
        .filter(pk=ballot_id)
        .first()
    )
    if ballot is None:
        return None
    if ballot.member.user_id == actor.pk:
        return ballot
    if not Ballot.objects.visible_to(actor).filter(pk=ballot.pk).exists():
        return None
    return ballot


# Numbers that are personal data wherever they are typed: an ID-card number (17
# digits and a check character) and a mainland mobile number.
_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def mask_text(text: str) -> str:
    """Free text for a public page with ID-card and mobile numbers masked."""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text or "")
    return _MOBILE.sub(lambda m: mask_phone(m.group(0)), text)


def public_communities() -> QuerySet:
    return Region.objects.filter(level=RegionLevel.COMMUNITY, is_active=True)


def published_topics(*, community: Region) -> list[Topic]:
    """What the community's notice page shows (公开): admitted topics with their
    public step records and counted votes, newest first."""
    topics = list(
        Topic.objects.filter(
            community=community,
            state__in=(TopicState.IN_PROGRESS, TopicState.CONCLUDED),
        )
        .filter(records__step__in=PUBLIC_STEPS)
        .distinct()
        .prefetch_related(
            Prefetch(
                "records",
                queryset=TopicStep.objects.filter(step__in=PUBLIC_STEPS).order_by(
                    "position"
                ),
                to_attr="public_records",
            ),
            Prefetch(
                "vote_items",
                queryset=VoteItem.objects.filter(state=VoteState.COUNTED),
                to_attr="counted_items",
            ),
        )
        .order_by("-raised_at", "-pk")[:100]
    )
    for topic in topics:
        for record in topic.public_records:
            record.public_minutes = mask_text(record.minutes)
    return topics
