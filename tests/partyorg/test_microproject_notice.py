"""The 民生微实事 public notice of a community: no login behind the signed
link, every project with its state, money and milestones, personal data
masked, another community's projects and photos out of reach."""

import pytest
from django.urls import reverse

from partyorg.deliberation.views import notice_signature, notice_url
from partyorg.microprojects import services
from partyorg.microprojects.views import micro_project_notice_url
from tests.partyorg.factories import png_upload

pytestmark = pytest.mark.django_db


def _accepted(tree, grid_worker, community_staff, street_staff, **kwargs):
    project = services.micro_project_propose(
        actor=grid_worker,
        region=tree["grids"][0],
        title=kwargs.get("title", "加装楼道扶手"),
        description="居民张桂芳（电话13812345678）反映3号楼缺扶手",
        proposed_by_name="张桂芳",
    )
    services.micro_project_screen(actor=community_staff, project_id=project.pk)
    services.micro_project_approve(
        actor=street_staff, project_id=project.pk, budget="8000"
    )
    services.micro_project_start(actor=community_staff, project_id=project.pk)
    milestone = services.micro_project_milestone_add(
        actor=community_staff,
        project_id=project.pk,
        note="扶手已到货，身份证110101199003071234",
        photo=png_upload(),
    )
    services.micro_project_accept(
        actor=street_staff, project_id=project.pk, spent="7650.50", result="已装好"
    )
    return project, milestone


def test_notice_without_login_lists_projects_and_masks(
    client,
    tree,
    grid_worker,
    community_staff,
    street_staff,
    settings,
    tmp_path,
    django_assert_max_num_queries,
):
    settings.MEDIA_ROOT = tmp_path
    _project, milestone = _accepted(tree, grid_worker, community_staff, street_staff)
    services.micro_project_propose(
        actor=community_staff,
        region=tree["communities"][0],
        title="小广场照明",
        description="晚上太暗",
    )
    community = tree["communities"][0]
    with django_assert_max_num_queries(5):
        page = client.get(micro_project_notice_url(community))
    assert page.status_code == 200
    body = page.content.decode()
    assert "加装楼道扶手" in body and "小广场照明" in body
    assert "7650.50" in body and "8000" in body and "已装好" in body
    assert "张桂芳" not in body and "张*芳" in body
    assert "13812345678" not in body and "138****5678" in body
    assert "110101199003071234" not in body
    photo_url = reverse(
        "micro_project_notice_photo",
        args=[community.pk, notice_signature(community), milestone.pk],
    )
    assert photo_url in body
    photo = client.get(photo_url)
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    # Linked both ways with the deliberation notice.
    assert notice_url(community) in body
    assert (
        micro_project_notice_url(community)
        in client.get(notice_url(community)).content.decode()
    )


def test_notice_and_photos_of_another_community_are_out_of_reach(
    client, tree, grid_worker, community_staff, street_staff, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    _project, milestone = _accepted(tree, grid_worker, community_staff, street_staff)
    mine, other = tree["communities"][0], tree["communities"][1]
    forged = reverse("partyorg:micro_project_notice", args=[mine.pk, "forged"])
    assert client.get(forged).status_code == 404
    swapped = reverse(
        "partyorg:micro_project_notice", args=[other.pk, notice_signature(mine)]
    )
    assert client.get(swapped).status_code == 404
    page = client.get(micro_project_notice_url(other)).content.decode()
    assert "加装楼道扶手" not in page
    # The other community's own link does not open this community's photo.
    stolen = reverse(
        "micro_project_notice_photo",
        args=[other.pk, notice_signature(other), milestone.pk],
    )
    assert client.get(stolen).status_code == 404
    bad = reverse("micro_project_notice_photo", args=[mine.pk, "forged", milestone.pk])
    assert client.get(bad).status_code == 404
