"""Whistles and micro-projects linked to a deliberation topic (real foreign
keys): from a topic of the same community, in scope; a micro-project only from
a topic whose outcome is published."""

import pytest
from django.db.models import ProtectedError

from grids.choices import UserRole
from grids.errors import DomainError, OutOfScope
from partyorg.deliberation import services as deliberation
from partyorg.microprojects import services as project_services
from partyorg.whistle.services import whistle_blow
from tests.grids.factories import UserFactory
from tests.partyorg.deliberation.factories import (
    admitted_topic,
    council_with_members,
    walk,
)
from tests.tickets.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def _published(staff, community):
    # The six steps: the fifth (publish the outcome) is public.
    council = council_with_members(staff, community)
    return walk(staff, admitted_topic(staff, community, council), 5)


def _project(actor, topic, **kwargs):
    return project_services.micro_project_propose(
        actor=actor,
        title="加装楼道扶手",
        description="议事结果：3号楼加装扶手",
        topic=topic,
        **kwargs,
    )


def test_micro_project_from_a_published_outcome(tree, community_staff):
    topic = _published(community_staff, tree["communities"][0])
    project = _project(community_staff, topic)
    assert project.topic == topic and project.community == tree["communities"][0]
    assert list(topic.micro_projects.all()) == [project]
    with pytest.raises(ProtectedError):
        topic.delete()


def test_micro_project_needs_a_published_outcome_in_scope(
    tree, community_staff, street_staff
):
    early = walk(community_staff, admitted_topic(community_staff, tree["grids"][0]), 2)
    with pytest.raises(DomainError) as refused:
        _project(community_staff, early)
    assert refused.value.code == "topic_not_published"
    topic = _published(community_staff, tree["communities"][0])
    with pytest.raises(DomainError) as refused:
        _project(street_staff, topic, region=tree["communities"][1])
    assert refused.value.code == "topic_elsewhere"
    far = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])
    with pytest.raises(OutOfScope):
        _project(far, topic)


def _whistle(actor, tree, topic):
    return whistle_blow(
        actor=actor,
        region=tree["grids"][0],
        title="井盖缺失",
        meeting_point="东门",
        report_within_minutes=30,
        departments=[DepartmentFactory(region=tree["street"])],
        topic=topic,
    )


def test_whistle_from_an_admitted_topic(tree, community_staff):
    topic = admitted_topic(community_staff, tree["grids"][0])
    whistle = _whistle(community_staff, tree, topic)
    assert whistle.topic == topic and list(topic.whistles.all()) == [whistle]


def test_whistle_topic_of_the_same_community_admitted_and_in_scope(
    tree, community_staff, street_staff, grid_worker
):
    elsewhere = admitted_topic(street_staff, tree["communities"][1])
    with pytest.raises(OutOfScope):
        _whistle(community_staff, tree, elsewhere)
    with pytest.raises(DomainError) as refused:
        _whistle(street_staff, tree, elsewhere)
    assert refused.value.code == "topic_elsewhere"
    raised = deliberation.topic_raise(
        actor=grid_worker, region=tree["grids"][0], title="未筛选的议题"
    )
    with pytest.raises(DomainError) as refused:
        _whistle(grid_worker, tree, raised)
    assert refused.value.code == "topic_not_admitted"


def test_whistle_blown_from_the_topic_page(client, tree, community_staff):
    from django.urls import reverse

    from partyorg.whistle.models import Whistle

    department = DepartmentFactory(name="城管执法", region=tree["street"])
    topic = admitted_topic(community_staff, tree["grids"][0], title="井盖缺失议题")
    client.force_login(community_staff)
    detail = client.get(reverse("m:party:topic_detail", args=[topic.pk]))
    new_url = reverse("m:party:whistle_new") + f"?topic={topic.pk}"
    assert new_url in detail.content.decode()
    page = client.get(new_url)
    assert page.status_code == 200 and "井盖缺失议题" in page.content.decode()
    response = client.post(
        reverse("m:party:whistle_new"),
        {
            "region": tree["grids"][0].pk,
            "title": "井盖缺失",
            "meeting_point": "东门",
            "report_within_minutes": 30,
            "departments": [department.pk],
            "topic": topic.pk,
        },
    )
    assert response.status_code == 302
    assert Whistle.objects.get(title="井盖缺失").topic == topic
    # Another community's topic is not offered: 404 from its link.
    far = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])
    client.force_login(far)
    assert client.get(new_url).status_code == 404
