"""Decision 四步走: ballots one per member, counted against quorum and majority;
a tie, a missing quorum, a duplicate, a secret vote and who may cast."""

import pytest

from grids.choices import UserRole
from grids.errors import Conflict, NotAllowed, OutOfScope
from partyorg.deliberation import services
from partyorg.deliberation.choices import Vote, VoteResult, VoteState
from tests.grids.factories import UserFactory

from .factories import admitted_topic, council_with_members, walk

pytestmark = pytest.mark.django_db


def _open_vote(staff, community, *, size=4, **council_kwargs):
    council = council_with_members(staff, community, size=size, **council_kwargs)
    topic = walk(staff, admitted_topic(staff, community, council), 3)
    item = services.vote_item_open(actor=staff, topic_id=topic.pk, text="同意加装")
    return item, list(item.ballots.select_related("member__user").order_by("pk"))


def _cast(staff, ballots, votes):
    for ballot, vote in zip(ballots, votes, strict=False):
        services.ballot_cast(actor=staff, ballot_id=ballot.pk, vote=vote)


@pytest.mark.parametrize(
    ("votes", "result"),
    [
        ((Vote.FOR, Vote.FOR, Vote.AGAINST), VoteResult.PASSED),
        ((Vote.FOR, Vote.AGAINST, Vote.AGAINST), VoteResult.REJECTED),
        ((Vote.FOR, Vote.FOR, Vote.AGAINST, Vote.AGAINST), VoteResult.TIED),
        ((Vote.FOR, Vote.FOR), VoteResult.NO_QUORUM),  # 2 of 4 < 66 %
        ((Vote.FOR, Vote.ABSTAIN, Vote.ABSTAIN), VoteResult.REJECTED),
    ],
)
def test_count(votes, result, tree, community_staff):
    item, ballots = _open_vote(community_staff, tree["communities"][0])
    _cast(community_staff, ballots, votes)
    item = services.vote_item_count(actor=community_staff, item_id=item.pk)
    assert item.result == result
    assert item.state == VoteState.COUNTED
    assert item.votes_cast == len(votes)


def test_vote_result_rules():
    rule = {"quorum": 67, "majority": 50}
    assert (
        services.vote_result(eligible=3, votes_for=2, against=0, abstain=0, **rule)
        == VoteResult.NO_QUORUM
    )
    assert (
        services.vote_result(eligible=3, votes_for=2, against=0, abstain=1, **rule)
        == VoteResult.PASSED
    )
    assert (
        services.vote_result(eligible=4, votes_for=2, against=2, abstain=0, **rule)
        == VoteResult.TIED
    )
    assert (
        services.vote_result(eligible=3, votes_for=0, against=0, abstain=3, **rule)
        == VoteResult.REJECTED
    )
    assert (
        services.vote_result(eligible=0, votes_for=0, against=0, abstain=0, **rule)
        == VoteResult.NO_QUORUM
    )
    # A two-thirds majority: 4 of 6 is not more than 2/3.
    assert (
        services.vote_result(
            eligible=6, votes_for=4, against=2, abstain=0, quorum=50, majority=66
        )
        == VoteResult.PASSED
    )
    assert (
        services.vote_result(
            eligible=6, votes_for=4, against=2, abstain=0, quorum=50, majority=67
        )
        == VoteResult.REJECTED
    )


def test_second_ballot_refused_and_counted_once(tree, community_staff):
    item, ballots = _open_vote(community_staff, tree["communities"][0])
    member_user = ballots[0].member.user
    services.ballot_cast(actor=member_user, ballot_id=ballots[0].pk, vote=Vote.FOR)
    with pytest.raises(Conflict) as exc:
        services.ballot_cast(
            actor=member_user, ballot_id=ballots[0].pk, vote=Vote.AGAINST
        )
    assert exc.value.code == "already_cast"
    item.refresh_from_db()
    assert (item.votes_for, item.votes_against) == (1, 0)


def test_open_vote_keeps_choice_secret_vote_does_not(tree, community_staff):
    _item, ballots = _open_vote(community_staff, tree["communities"][0])
    services.ballot_cast(actor=community_staff, ballot_id=ballots[0].pk, vote="for")
    ballots[0].refresh_from_db()
    assert ballots[0].vote == Vote.FOR
    other_staff = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1]
    )
    secret, secret_ballots = _open_vote(
        other_staff, tree["communities"][1], secret_ballot=True, name="五位一体"
    )
    services.ballot_cast(
        actor=other_staff, ballot_id=secret_ballots[0].pk, vote=Vote.AGAINST
    )
    secret_ballots[0].refresh_from_db()
    secret.refresh_from_db()
    assert secret_ballots[0].vote == "" and secret_ballots[0].is_cast
    assert secret.votes_against == 1


def test_who_may_cast(tree, community_staff):
    item, ballots = _open_vote(community_staff, tree["communities"][0])
    other_member = ballots[1].member.user
    # Another member's ballot: the member's account (a grid worker of one grid)
    # does not see the community's topic, so the ballot does not exist for it.
    with pytest.raises(OutOfScope):
        services.ballot_cast(actor=other_member, ballot_id=ballots[0].pk, vote="for")
    outsider = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])
    with pytest.raises(OutOfScope):
        services.ballot_cast(actor=outsider, ballot_id=ballots[0].pk, vote="for")
    grid_topic_worker = UserFactory(role=UserRole.GRID_WORKER, region=tree["street"])
    with pytest.raises(NotAllowed):
        services.ballot_cast(
            actor=grid_topic_worker, ballot_id=ballots[0].pk, vote="for"
        )
    supervisor = UserFactory(role=UserRole.SUPERVISOR, region=tree["district"])
    with pytest.raises(NotAllowed):
        services.ballot_cast(actor=supervisor, ballot_id=ballots[0].pk, vote="for")
    with pytest.raises(NotAllowed):
        services.vote_item_count(actor=other_member, item_id=item.pk)


def test_no_ballot_after_count_and_no_count_twice(tree, community_staff):
    item, ballots = _open_vote(community_staff, tree["communities"][0])
    _cast(community_staff, ballots, [Vote.FOR] * 3)
    services.vote_item_count(actor=community_staff, item_id=item.pk)
    with pytest.raises(Conflict):
        services.ballot_cast(actor=community_staff, ballot_id=ballots[3].pk, vote="for")
    with pytest.raises(Conflict):
        services.vote_item_count(actor=community_staff, item_id=item.pk)


def test_member_added_after_opening_gets_no_ballot(tree, community_staff):
    item, ballots = _open_vote(community_staff, tree["communities"][0], size=2)
    assert item.eligible_count == 2 and len(ballots) == 2
