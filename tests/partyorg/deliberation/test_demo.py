"""The deliberation demo: topics at every step of each path, through the
services, once."""

import io
import random

from partyorg.deliberation import demo as deliberation_demo
from partyorg.deliberation.choices import (
    PATH_STEPS,
    Path,
    TopicKind,
    TopicState,
    VoteState,
)
from partyorg.deliberation.models import Council, Topic, TopicStep, VoteItem
from tests.partyorg.test_demo import demo_tree  # noqa: F401  (the fixture)


def test_demo_topics_in_every_step_of_every_path(demo_tree):  # noqa: F811
    out = io.StringIO()
    deliberation_demo.seed(stdout=out, rng=random.Random(3))
    counts = (Topic.objects.count(), TopicStep.objects.count(), Council.objects.count())
    assert all(counts)
    for path in Path:
        done = set(
            Topic.objects.filter(
                path=path, state__in=(TopicState.IN_PROGRESS, TopicState.CONCLUDED)
            ).values_list("steps_done", flat=True)
        )
        assert done == set(range(len(PATH_STEPS[path]) + 1)), path
    assert Topic.objects.filter(state=TopicState.RAISED).exists()
    assert Topic.objects.filter(
        state=TopicState.REFUSED, kind=TopicKind.PRIVATE_DISPUTE
    ).exists()
    assert not VoteItem.objects.filter(state=VoteState.OPEN).exists()
    assert VoteItem.objects.filter(secret=True).exists()
    # Every record is in order: position n is the path's n-th step.
    for record in TopicStep.objects.select_related("topic"):
        assert record.topic.steps[record.position] == record.step
    deliberation_demo.seed(stdout=out, rng=random.Random(4))
    assert (
        Topic.objects.count(),
        TopicStep.objects.count(),
        Council.objects.count(),
    ) == counts
    assert "nothing to do" in out.getvalue()
