"""Races on PostgreSQL: the same ballot submitted twice at once counts once."""

import pytest
from django.db import connection

from partyorg.deliberation import services
from partyorg.deliberation.choices import Vote
from partyorg.deliberation.models import Ballot, VoteItem
from tests.partyorg.test_concurrency import _race

from .factories import admitted_topic, council_with_members, walk

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises writers; the race needs PostgreSQL row locks",
    ),
]


def test_concurrent_submissions_of_one_ballot_count_once(tree, community_staff):
    community = tree["communities"][0]
    council = council_with_members(community_staff, community, size=3)
    topic = walk(
        community_staff, admitted_topic(community_staff, community, council), 3
    )
    item = services.vote_item_open(actor=community_staff, topic_id=topic.pk, text="x")
    ballot = item.ballots.select_related("member__user").first()
    voter = ballot.member.user

    def cast(vote):
        return services.ballot_cast(actor=voter, ballot_id=ballot.pk, vote=vote)

    outcomes = _race(cast, [(Vote.FOR,), (Vote.AGAINST,), (Vote.FOR,), (Vote.FOR,)])
    assert sorted(code for code, _ in outcomes) == [
        "already_cast",
        "already_cast",
        "already_cast",
        "ok",
    ]
    item = VoteItem.objects.get(pk=item.pk)
    assert item.votes_cast == 1
    assert Ballot.objects.filter(item=item, cast_at__isnull=False).count() == 1


def test_concurrent_ballots_of_different_members_all_count(tree, community_staff):
    community = tree["communities"][0]
    council = council_with_members(community_staff, community, size=4)
    topic = walk(
        community_staff, admitted_topic(community_staff, community, council), 3
    )
    item = services.vote_item_open(actor=community_staff, topic_id=topic.pk, text="x")
    ballots = list(item.ballots.select_related("member__user"))

    def cast(ballot):
        return services.ballot_cast(
            actor=ballot.member.user, ballot_id=ballot.pk, vote=Vote.FOR
        )

    outcomes = _race(cast, [(b,) for b in ballots])
    assert [code for code, _ in outcomes] == ["ok"] * 4
    assert VoteItem.objects.get(pk=item.pk).votes_for == 4
