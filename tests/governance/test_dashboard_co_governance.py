"""The dashboard's co-governance section: the month's published deliberation
outcomes of the node's subtree and its 民生微实事 totals (proposed, accepted,
money spent); another community's are not counted."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from partyorg.deliberation.views import notice_url
from partyorg.microprojects import services as projects
from tests.partyorg.deliberation.factories import (
    admitted_topic,
    council_with_members,
    walk,
)

pytestmark = pytest.mark.django_db


def _accepted(tree, community_staff, street_staff, community, spent):
    project = projects.micro_project_propose(
        actor=street_staff, region=community, title="加装扶手", description="缺扶手"
    )
    projects.micro_project_screen(actor=street_staff, project_id=project.pk)
    projects.micro_project_approve(
        actor=street_staff, project_id=project.pk, budget="9000"
    )
    projects.micro_project_start(actor=street_staff, project_id=project.pk)
    return projects.micro_project_accept(
        actor=street_staff, project_id=project.pk, spent=spent, result="已完成"
    )


def test_the_months_outcomes_and_project_totals_of_the_node(
    client, tree, community_staff, street_staff
):
    mine, theirs = tree["communities"]
    council = council_with_members(community_staff, mine)
    topic = walk(
        community_staff,
        admitted_topic(community_staff, mine, council, title="加装电梯议题"),
        5,
    )
    _accepted(tree, community_staff, street_staff, mine, "7650.50")
    _accepted(tree, community_staff, street_staff, theirs, "100")
    projects.micro_project_propose(
        actor=community_staff, region=mine, title="照明", description="太暗"
    )
    client.force_login(community_staff)
    month = timezone.localdate().strftime("%Y-%m")
    response = client.get(
        reverse("dashboard:region", args=[mine.pk]) + f"?month={month}"
    )
    assert response.status_code == 200
    section = response.context["co_governance"]
    assert [r.topic for r in section["outcomes"]] == [topic]
    assert section["projects"]["proposed"] == 2
    assert section["projects"]["accepted"] == 1
    assert section["projects"]["spent"] == Decimal("7650.50")
    body = response.content.decode()
    assert "加装电梯议题" in body and notice_url(mine) in body
    # The street sees both communities' projects.
    client.force_login(street_staff)
    response = client.get(
        reverse("dashboard:region", args=[tree["street"].pk]) + f"?month={month}"
    )
    assert response.context["co_governance"]["projects"]["spent"] == Decimal("7750.50")
