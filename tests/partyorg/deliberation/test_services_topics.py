"""Raising and screening topics (五议五不议) and recording the steps of every
path (六步议事, 四+五, 一报四议两公开): allowed and denied."""

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.translation import gettext

from grids.choices import UserRole
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from grids.models import Notification
from partyorg.deliberation import services
from partyorg.deliberation.choices import (
    ADMISSIBLE_KINDS,
    DECISION_STEPS,
    PATH_FOR_KIND,
    PATH_STEPS,
    REFUSED_KINDS,
    CommunityKind,
    Path,
    Step,
    TopicKind,
    TopicSource,
    TopicState,
)
from partyorg.deliberation.models import Topic
from tests.grids.factories import HouseholdFactory, ResidentFactory, UserFactory
from tests.tickets.factories import new_ticket

from .factories import admitted_topic, council_with_members, decide, record, walk

pytestmark = pytest.mark.django_db


def test_five_admissible_and_five_refused_kinds():
    assert len(ADMISSIBLE_KINDS) == 5
    assert len(REFUSED_KINDS) == 5
    assert ADMISSIBLE_KINDS.isdisjoint(REFUSED_KINDS)


def test_each_community_kind_chooses_its_path(tree, community_staff):
    community = tree["communities"][0]
    assert services.path_for(community) == Path.SIX_STEPS
    for kind, path in PATH_FOR_KIND.items():
        services.community_kind_set(
            actor=community_staff, community=community, kind=kind
        )
        topic = services.topic_raise(
            actor=community_staff, region=community, title=f"议题{kind}"
        )
        assert topic.path == path
    assert PATH_FOR_KIND[CommunityKind.OPEN] == Path.FOUR_PLUS_FIVE
    assert PATH_FOR_KIND[CommunityKind.VILLAGE] == Path.ONE_REPORT


def test_resident_topic_through_grid_worker(tree, grid_worker):
    resident = ResidentFactory(household=HouseholdFactory(region=tree["grids"][0]))
    topic = services.topic_raise(
        actor=grid_worker,
        region=tree["grids"][0],
        title="楼道堆物清理",
        source=TopicSource.RESIDENT,
        resident=resident,
    )
    assert topic.state == TopicState.RAISED
    assert topic.community == tree["communities"][0]
    assert topic.resident == resident


def test_resident_of_another_community_is_refused(tree, grid_worker):
    elsewhere = ResidentFactory(household=HouseholdFactory(region=tree["grids"][2]))
    with pytest.raises(DomainError) as exc:
        services.topic_raise(
            actor=grid_worker,
            region=tree["grids"][0],
            title="x",
            source=TopicSource.RESIDENT,
            resident=elsewhere,
        )
    assert exc.value.code == "resident_elsewhere"


def test_topic_outside_scope_and_by_supervisor_refused(tree, grid_worker, supervisor):
    with pytest.raises(OutOfScope):
        services.topic_raise(actor=grid_worker, region=tree["grids"][2], title="x")
    with pytest.raises(NotAllowed):
        services.topic_raise(actor=supervisor, region=tree["grids"][0], title="x")


def test_empty_or_huge_title_refused(tree, grid_worker):
    with pytest.raises(DomainError):
        services.topic_raise(actor=grid_worker, region=tree["grids"][0], title="  ")
    with pytest.raises(DomainError):
        services.topic_raise(
            actor=grid_worker, region=tree["grids"][0], title="长" * 201
        )
    assert not Topic.objects.exists()


def test_ticket_becomes_topic_once(tree, street_staff, community_staff):
    ticket = new_ticket(street_staff, tree)
    topic = services.topic_from_ticket(actor=community_staff, ticket_id=ticket.pk)
    assert topic.ticket == ticket and topic.source == TopicSource.TICKET
    assert topic.region == tree["grids"][0]
    with pytest.raises(Conflict):
        services.topic_from_ticket(actor=community_staff, ticket_id=ticket.pk)


def test_ticket_of_another_community_is_out_of_reach(tree, street_staff):
    ticket = new_ticket(street_staff, tree, region=tree["grids"][2])
    staff = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0])
    with pytest.raises(OutOfScope):
        services.topic_from_ticket(actor=staff, ticket_id=ticket.pk)


@pytest.mark.parametrize("kind", sorted(REFUSED_KINDS))
def test_refused_topic_records_rule_and_tells_raiser(
    kind, tree, grid_worker, community_staff, django_capture_on_commit_callbacks
):
    topic = services.topic_raise(actor=grid_worker, region=tree["grids"][0], title="x")
    with django_capture_on_commit_callbacks(execute=True):
        services.topic_screen(
            actor=community_staff, topic_id=topic.pk, kind=kind, note="依法规定"
        )
    topic.refresh_from_db()
    assert topic.state == TopicState.REFUSED and topic.kind == kind
    notice = Notification.objects.get(recipient=grid_worker)
    assert str(TopicKind(kind).label) in notice.body
    points_to_ticket = (
        gettext("Report it as a ticket or ask for mediation; it is handled there.")
        in notice.body
    )
    assert points_to_ticket == (kind == TopicKind.PRIVATE_DISPUTE)
    assert topic.next_step is None
    with pytest.raises(Conflict):
        record(community_staff, topic, topic.steps[0])


@pytest.mark.parametrize("kind", sorted(ADMISSIBLE_KINDS))
def test_admitted_topic_goes_to_its_path(kind, tree, grid_worker, community_staff):
    topic = services.topic_raise(actor=grid_worker, region=tree["grids"][0], title="x")
    services.topic_screen(actor=community_staff, topic_id=topic.pk, kind=kind)
    topic.refresh_from_db()
    assert topic.state == TopicState.IN_PROGRESS
    assert topic.next_step == PATH_STEPS[Path(topic.path)][0]


def test_screening_denied(tree, grid_worker, community_staff):
    topic = services.topic_raise(actor=grid_worker, region=tree["grids"][0], title="x")
    with pytest.raises(NotAllowed):
        services.topic_screen(
            actor=grid_worker, topic_id=topic.pk, kind=TopicKind.PUBLIC_AFFAIRS
        )
    other = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])
    with pytest.raises(OutOfScope):
        services.topic_screen(
            actor=other, topic_id=topic.pk, kind=TopicKind.PUBLIC_AFFAIRS
        )
    with pytest.raises(DomainError):
        services.topic_screen(actor=community_staff, topic_id=topic.pk, kind="nope")
    services.topic_screen(
        actor=community_staff, topic_id=topic.pk, kind=TopicKind.UNFAIR
    )
    with pytest.raises(Conflict):
        services.topic_screen(
            actor=community_staff, topic_id=topic.pk, kind=TopicKind.PUBLIC_AFFAIRS
        )


@pytest.mark.parametrize(
    ("community_kind", "path"),
    [
        (None, Path.SIX_STEPS),
        (CommunityKind.OPEN, Path.FOUR_PLUS_FIVE),
        (CommunityKind.VILLAGE, Path.ONE_REPORT),
    ],
)
def test_every_step_of_each_path_allowed_in_order_and_denied_out_of_order(
    community_kind, path, tree, community_staff
):
    community = tree["communities"][0]
    if community_kind:
        services.community_kind_set(
            actor=community_staff, community=community, kind=community_kind
        )
    council = council_with_members(community_staff, community)
    topic = admitted_topic(community_staff, community, council)
    steps = PATH_STEPS[path]
    assert topic.path == path
    for position, step in enumerate(steps):
        # Denied: every later step (skipping) and every earlier one (again).
        for later in steps[position + 1 :]:
            with pytest.raises(Conflict) as exc:
                record(community_staff, topic, later)
            assert exc.value.code == "step_skipped"
        for earlier in steps[:position]:
            with pytest.raises(Conflict) as exc:
                record(community_staff, topic, earlier)
            assert exc.value.code == "step_recorded"
        if step in DECISION_STEPS:
            with pytest.raises(Conflict) as exc:
                record(community_staff, topic, step)
            assert exc.value.code == "no_vote"
            decide(community_staff, topic)
        # Allowed: the next step.
        record(community_staff, topic, step)
        topic.refresh_from_db()
        assert topic.steps_done == position + 1
    assert topic.state == TopicState.CONCLUDED
    assert list(topic.records.values_list("step", flat=True)) == list(steps)
    with pytest.raises(Conflict):
        record(community_staff, topic, steps[-1])


def test_step_record_denied_by_role_scope_and_input(tree, community_staff, supervisor):
    topic = admitted_topic(community_staff, tree["communities"][0])
    with pytest.raises(NotAllowed):
        record(supervisor, topic, Step.COLLECT)
    other = UserFactory(role=UserRole.GRID_WORKER, region=tree["grids"][2])
    with pytest.raises(OutOfScope):
        record(other, topic, Step.COLLECT)
    today = timezone.localdate()
    with pytest.raises(DomainError):
        record(community_staff, topic, Step.COLLECT, minutes="   ")
    with pytest.raises(DomainError):
        record(
            community_staff,
            topic,
            Step.COLLECT,
            started_on=today,
            completed_on=today - dt.timedelta(days=1),
        )
    with pytest.raises(DomainError):
        record(
            community_staff,
            topic,
            Step.COLLECT,
            completed_on=today + dt.timedelta(days=3),
        )
    topic.refresh_from_db()
    assert topic.steps_done == 0 and not topic.records.exists()


def test_vote_only_at_the_decision_step(tree, community_staff):
    council = council_with_members(community_staff, tree["communities"][0])
    topic = admitted_topic(community_staff, tree["communities"][0], council)
    with pytest.raises(Conflict) as exc:
        services.vote_item_open(actor=community_staff, topic_id=topic.pk, text="x")
    assert exc.value.code == "not_decision_step"
    walk(community_staff, topic, 3)
    item = services.vote_item_open(actor=community_staff, topic_id=topic.pk, text="x")
    with pytest.raises(Conflict) as exc:
        record(community_staff, topic, Step.DELIBERATE)
    assert exc.value.code == "vote_open"
    assert item.ballots.count() == 3
