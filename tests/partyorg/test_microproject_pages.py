"""民生微实事 phone pages: the list and detail in scope (another community's
project is a 404), proposing a resident's order or a topic's published outcome,
a milestone with a photo recorded once however often it is sent."""

import pytest
from django.urls import reverse

from grids.choices import UserRole
from partyorg.microprojects import services
from partyorg.microprojects.models import MicroProject
from tests.grids.factories import UserFactory
from tests.partyorg.deliberation.factories import (
    admitted_topic,
    council_with_members,
    walk,
)
from tests.partyorg.factories import png_upload

pytestmark = pytest.mark.django_db


def _running(tree, grid_worker, community_staff, street_staff):
    project = services.micro_project_propose(
        actor=grid_worker,
        region=tree["grids"][0],
        title="加装楼道扶手",
        description="3号楼缺扶手",
        proposed_by_name="张桂芳",
    )
    services.micro_project_screen(actor=community_staff, project_id=project.pk)
    services.micro_project_approve(
        actor=street_staff, project_id=project.pk, budget="8000"
    )
    return services.micro_project_start(actor=community_staff, project_id=project.pk)


def test_grid_worker_records_a_residents_order(client, tree, grid_worker):
    client.force_login(grid_worker)
    assert client.get(reverse("m:party:project_new")).status_code == 200
    response = client.post(
        reverse("m:party:project_new"),
        {
            "region": tree["grids"][0].pk,
            "title": "小广场照明",
            "description": "晚上太暗",
            "proposed_by_name": "李大爷",
        },
    )
    project = MicroProject.objects.get(title="小广场照明")
    detail = reverse("m:party:project_detail", args=[project.pk])
    assert response.status_code == 302 and response["Location"] == detail
    assert project.community == tree["communities"][0]
    page = client.get(detail).content.decode()
    assert "李*爷" in page and "李大爷" not in page
    listed = client.get(reverse("m:party:project_list")).content.decode()
    assert "小广场照明" in listed
    # Another grid is not offered to this grid worker.
    refused = client.post(
        reverse("m:party:project_new"),
        {"region": tree["grids"][2].pk, "title": "别处", "description": "x"},
    )
    assert refused.status_code == 200
    assert not MicroProject.objects.filter(title="别处").exists()


def test_supervisor_may_not_propose(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("m:party:project_new")).status_code == 404


def test_another_communitys_project_is_out_of_reach(
    client, tree, grid_worker, community_staff, street_staff
):
    project = _running(tree, grid_worker, community_staff, street_staff)
    far = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])
    client.force_login(far)
    detail = reverse("m:party:project_detail", args=[project.pk])
    assert client.get(detail).status_code == 404
    assert client.post(detail, {"note": "x"}).status_code == 404
    assert (
        "加装楼道扶手"
        not in client.get(reverse("m:party:project_list")).content.decode()
    )
    assert not project.milestones.exists()


def test_milestone_with_a_photo_recorded_once(
    client, tree, grid_worker, community_staff, street_staff, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    project = _running(tree, grid_worker, community_staff, street_staff)
    detail = reverse("m:party:project_detail", args=[project.pk])
    client.force_login(grid_worker)
    assert "Record a milestone" not in client.get(detail).content.decode()
    assert client.post(detail, {"note": "x"}).status_code == 404
    client.force_login(community_staff)
    data = {"note": "扶手已到货", "idempotency_key": "milestone-1"}
    first = client.post(detail, {**data, "photo": png_upload()})
    assert first.status_code == 302
    again = client.post(detail, {**data, "photo": png_upload()})
    assert again.status_code == 302
    milestone = project.milestones.get()
    assert milestone.photo and milestone.recorded_by == community_staff
    page = client.get(detail).content.decode()
    assert "扶手已到货" in page and milestone.photo.url in page


def test_project_from_a_topics_published_outcome(client, tree, community_staff):
    community = tree["communities"][0]
    council = council_with_members(community_staff, community)
    topic = walk(
        community_staff, admitted_topic(community_staff, community, council), 5
    )
    early = walk(community_staff, admitted_topic(community_staff, community), 2)
    client.force_login(community_staff)
    link = reverse("m:party:project_new") + f"?topic={topic.pk}"
    page = client.get(reverse("m:party:topic_detail", args=[topic.pk]))
    assert link in page.content.decode()
    early_page = client.get(reverse("m:party:topic_detail", args=[early.pk]))
    assert "?topic=" + str(early.pk) not in early_page.content.decode().replace(
        "whistles/new/?topic=", ""
    )
    assert (
        client.get(reverse("m:party:project_new") + f"?topic={early.pk}").status_code
        == 404
    )
    assert client.get(link).status_code == 200
    response = client.post(
        reverse("m:party:project_new"),
        {
            "region": community.pk,
            "title": "加装电梯",
            "description": "议事结果：加装电梯",
            "topic": topic.pk,
        },
    )
    assert response.status_code == 302
    assert MicroProject.objects.get(title="加装电梯").topic == topic
