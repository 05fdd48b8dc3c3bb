"""Helpers of the deliberation tests: councils with members and topics moved
through the real services (never by setting their state)."""

import datetime as dt

from django.utils import timezone

from grids.choices import UserRole
from partyorg.deliberation import services
from partyorg.deliberation.choices import (
    DECISION_STEPS,
    CouncilKind,
    MemberSide,
    TopicKind,
    TopicSource,
    Vote,
)
from tests.grids.factories import GridAssignmentFactory, GridWorkerFactory, UserFactory


def council_with_members(actor, community, *, size=3, **kwargs):
    """A council of ``community`` with ``size`` grid workers of its first grid,
    each with an account of their own (so they may cast ballots on the phone)."""
    grid = community.get_children().order_by("lft").first()
    council = services.council_create(
        actor=actor,
        region=community,
        name=kwargs.pop("name", f"{community.name}居民议事会"),
        kind=kwargs.pop("kind", CouncilKind.RESIDENTS),
        **kwargs,
    )
    for _ in range(size):
        user = UserFactory(role=UserRole.GRID_WORKER, region=grid, is_staff=False)
        worker = GridWorkerFactory(user=user)
        GridAssignmentFactory(worker=worker, grid=grid)
        services.council_member_add(
            actor=actor,
            council_id=council.pk,
            side=MemberSide.RESIDENT,
            name=worker.name,
            grid_worker=worker,
        )
    return council


def admitted_topic(actor, region, council=None, **kwargs):
    topic = services.topic_raise(
        actor=actor,
        region=region,
        title=kwargs.pop("title", "小区加装电梯"),
        source=kwargs.pop("source", TopicSource.GRID_WORKER),
        **kwargs,
    )
    return services.topic_screen(
        actor=actor,
        topic_id=topic.pk,
        kind=TopicKind.PUBLIC_AFFAIRS,
        council=council,
    )


def record(actor, topic, step, **kwargs):
    today = timezone.localdate()
    data = {
        "owner": "王芳",
        "participants": "居民代表、物业、业委会",
        "minutes": "讨论并形成意见",
        "started_on": today - dt.timedelta(days=1),
        "completed_on": today,
    }
    data.update(kwargs)
    return services.topic_step_record(actor=actor, topic_id=topic.pk, step=step, **data)


def decide(actor, topic, *, votes=(Vote.FOR,) * 3):
    """Open a vote on the topic, cast ``votes`` (by the members in order, as
    paper ballots recorded by ``actor``) and count it."""
    item = services.vote_item_open(actor=actor, topic_id=topic.pk, text="是否同意")
    for ballot, vote in zip(item.ballots.order_by("pk"), votes, strict=False):
        services.ballot_cast(actor=actor, ballot_id=ballot.pk, vote=vote)
    return services.vote_item_count(actor=actor, item_id=item.pk)


def walk(actor, topic, upto: int):
    """Record the first ``upto`` steps of the topic's path, deciding by ballot
    at the decision step."""
    topic.refresh_from_db()
    for step in topic.steps[topic.steps_done : upto]:
        if step in DECISION_STEPS:
            decide(actor, topic)
        record(actor, topic, step)
    topic.refresh_from_db()
    return topic
