"""民生微实事 steps on the project's phone page: staff screen, refuse and start,
the street approves the budget and accepts the work; each form is offered only
to whom ``micro_project_steps_for`` allows; a grid worker or another
community's staff is refused; a stale (wrong-state) post is refused with the
service's message and changes nothing; a double submit acts once."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from grids.choices import UserRole
from partyorg.microprojects import services
from partyorg.microprojects.choices import ProjectAction, ProjectState
from partyorg.microprojects.models import MicroProject, MicroProjectEvent
from partyorg.microprojects.permissions import micro_project_steps_for
from tests.grids.factories import UserFactory

pytestmark = pytest.mark.django_db


def _proposed(tree, grid_worker):
    return services.micro_project_propose(
        actor=grid_worker,
        region=tree["grids"][0],
        title="加装楼道扶手",
        description="3号楼缺扶手",
    )


def _detail(project):
    return reverse("m:party:project_detail", args=[project.pk])


def _post(client, project, action, key, **data):
    return client.post(
        _detail(project), {"form": action, "idempotency_key": f"step-key-{key}", **data}
    )


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_steps_through_the_page(
    client, tree, grid_worker, community_staff, street_staff
):
    project = _proposed(tree, grid_worker)
    client.force_login(community_staff)
    page = client.get(_detail(project)).content.decode()
    assert 'value="screen"' in page and 'value="reject"' in page
    assert 'value="approve"' not in page
    assert _post(client, project, "screen", "s1", note="符合").status_code == 302
    project.refresh_from_db()
    assert project.state == ProjectState.SCREENED
    # Approval is the street's (政府买单): no form for the community.
    assert 'value="approve"' not in client.get(_detail(project)).content.decode()
    assert _post(client, project, "approve", "a0", budget="1").status_code == 404
    client.force_login(street_staff)
    assert 'value="approve"' in client.get(_detail(project)).content.decode()
    assert _post(client, project, "approve", "a1", budget="8000").status_code == 302
    project.refresh_from_db()
    assert project.state == ProjectState.APPROVED
    assert project.budget == Decimal("8000.00")
    client.force_login(community_staff)
    assert _post(client, project, "start", "st1").status_code == 302
    project.refresh_from_db()
    assert project.state == ProjectState.IN_PROGRESS
    client.force_login(street_staff)
    over = _post(client, project, "accept", "ac0", spent="9000", result="完成")
    assert over.status_code == 200 and _messages(over)[-1] == "实际支出超出批准的预算。"
    project.refresh_from_db()
    assert project.state == ProjectState.IN_PROGRESS
    accepted = _post(client, project, "accept", "ac1", spent="7500.5", result="完成")
    assert accepted.status_code == 302
    project.refresh_from_db()
    assert project.state == ProjectState.ACCEPTED
    assert project.spent == Decimal("7500.50") and project.result == "完成"
    assert list(project.events.order_by("pk").values_list("action", flat=True)) == [
        ProjectAction.PROPOSE,
        ProjectAction.SCREEN,
        ProjectAction.APPROVE,
        ProjectAction.START,
        ProjectAction.ACCEPT,
    ]
    # Final: no step is offered any more.
    assert 'name="form"' not in client.get(_detail(project)).content.decode()


def test_staff_refuse_with_a_reason(client, tree, grid_worker, community_staff):
    project = _proposed(tree, grid_worker)
    client.force_login(community_staff)
    empty = _post(client, project, "reject", "r0", reason="  ")
    assert empty.status_code == 200
    project.refresh_from_db()
    assert project.state == ProjectState.PROPOSED
    assert _post(client, project, "reject", "r1", reason="重复").status_code == 302
    project.refresh_from_db()
    assert project.state == ProjectState.REJECTED and project.reject_reason == "重复"


def test_a_budget_of_nothing_is_refused_in_chinese(
    client, tree, grid_worker, community_staff, street_staff
):
    project = _proposed(tree, grid_worker)
    services.micro_project_screen(actor=community_staff, project_id=project.pk)
    client.force_login(street_staff)
    response = _post(client, project, "approve", "z", budget="0")
    assert response.status_code == 200
    assert _messages(response) == ["请填写金额（元）。"]
    project.refresh_from_db()
    assert project.state == ProjectState.SCREENED and project.budget is None


def test_grid_worker_and_another_community_are_refused(
    client, tree, grid_worker, community_staff
):
    project = _proposed(tree, grid_worker)
    client.force_login(grid_worker)
    page = client.get(_detail(project))
    assert page.status_code == 200 and 'name="form"' not in page.content.decode()
    assert _post(client, project, "screen", "g1").status_code == 404
    far = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])
    client.force_login(far)
    assert _post(client, project, "screen", "f1").status_code == 404
    assert _post(client, project, "reject", "f2", reason="x").status_code == 404
    project.refresh_from_db()
    assert project.state == ProjectState.PROPOSED
    assert project.events.count() == 1
    assert micro_project_steps_for(grid_worker, project) == []


def test_unknown_step_is_a_404(client, tree, grid_worker, community_staff):
    project = _proposed(tree, grid_worker)
    client.force_login(community_staff)
    assert _post(client, project, "propose", "u1").status_code == 404
    assert _post(client, project, "nonsense", "u2").status_code == 404


def test_a_stale_post_is_refused_and_changes_nothing(
    client, tree, grid_worker, community_staff
):
    project = _proposed(tree, grid_worker)
    client.force_login(community_staff)
    # The work cannot start before the street approves the budget.
    response = _post(client, project, "start", "w1")
    assert response.status_code == 200
    assert _messages(response) == ["已提出的项目不能变为实施中。"]
    # A second tab screens after the first one already did.
    assert _post(client, project, "screen", "w2").status_code == 302
    stale = _post(client, project, "screen", "w3")
    assert stale.status_code == 200
    assert _messages(stale)[-1] == "已筛选的项目不能变为已筛选。"
    project.refresh_from_db()
    assert project.state == ProjectState.SCREENED
    assert project.events.filter(action=ProjectAction.SCREEN).count() == 1
    assert not project.events.filter(action=ProjectAction.START).exists()


def test_double_submit_acts_once(client, tree, grid_worker, community_staff):
    project = _proposed(tree, grid_worker)
    client.force_login(community_staff)
    first = _post(client, project, "screen", "same", note="ok")
    again = _post(client, project, "screen", "same", note="ok")
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert (
        MicroProjectEvent.objects.filter(
            project=project, action=ProjectAction.SCREEN
        ).count()
        == 1
    )
    assert MicroProject.objects.get(pk=project.pk).state == ProjectState.SCREENED


def test_detail_page_query_bound(
    client,
    tree,
    grid_worker,
    community_staff,
    street_staff,
    django_assert_max_num_queries,
):
    project = _proposed(tree, grid_worker)
    services.micro_project_screen(actor=community_staff, project_id=project.pk)
    services.micro_project_approve(
        actor=street_staff, project_id=project.pk, budget="100"
    )
    services.micro_project_start(actor=community_staff, project_id=project.pk)
    for n in range(5):
        services.micro_project_milestone_add(
            actor=community_staff, project_id=project.pk, note=f"第{n}步"
        )
    client.force_login(street_staff)
    with django_assert_max_num_queries(12):
        page = client.get(_detail(project))
    assert page.status_code == 200 and 'value="accept"' in page.content.decode()


def test_admin_change_page_links_to_the_steps(client, tree, grid_worker, street_staff):
    project = _proposed(tree, grid_worker)
    client.force_login(street_staff)
    page = client.get(
        reverse("admin:partyorg_microproject_change", args=[project.pk])
    ).content.decode()
    assert _detail(project) in page
