"""民生微实事: every step allowed and denied, money checks, totals, scope."""

from decimal import Decimal

import pytest

from grids.choices import UserRole
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from partyorg.microprojects import selectors, services
from partyorg.microprojects.choices import (
    PROJECT_TRANSITIONS,
    ProjectAction,
    ProjectState,
)
from tests.grids.factories import UserFactory
from tests.partyorg.factories import png_upload


@pytest.fixture
def project(tree, grid_worker):
    return services.micro_project_propose(
        actor=grid_worker,
        region=tree["grids"][0],
        title="加装楼道扶手",
        description="3号楼老人多，楼道缺扶手",
        proposed_by_name="张桂芳",
    )


def _walk(project, community_staff, street_staff, to):
    steps = {
        ProjectState.SCREENED: lambda: services.micro_project_screen(
            actor=community_staff, project_id=project.pk
        ),
        ProjectState.APPROVED: lambda: services.micro_project_approve(
            actor=street_staff, project_id=project.pk, budget="8000"
        ),
        ProjectState.IN_PROGRESS: lambda: services.micro_project_start(
            actor=community_staff, project_id=project.pk
        ),
        ProjectState.ACCEPTED: lambda: services.micro_project_accept(
            actor=street_staff, project_id=project.pk, spent="7650.50", result="已装好"
        ),
    }
    for step in steps.values():
        if project.state == to:
            break
        project = step()
    return project


def _do(action, actor, project_id):
    calls = {
        ProjectAction.SCREEN: lambda: services.micro_project_screen(
            actor=actor, project_id=project_id
        ),
        ProjectAction.REJECT: lambda: services.micro_project_reject(
            actor=actor, project_id=project_id, reason="属于物业职责"
        ),
        ProjectAction.APPROVE: lambda: services.micro_project_approve(
            actor=actor, project_id=project_id, budget="8000"
        ),
        ProjectAction.START: lambda: services.micro_project_start(
            actor=actor, project_id=project_id
        ),
        ProjectAction.ACCEPT: lambda: services.micro_project_accept(
            actor=actor, project_id=project_id, spent="100", result="完成"
        ),
    }
    return calls[action]()


@pytest.mark.parametrize("action", list(PROJECT_TRANSITIONS))
@pytest.mark.parametrize(
    "state",
    [s for s in ProjectState if s != ProjectState.REJECTED],
)
def test_every_step_from_every_state(
    action, state, project, community_staff, street_staff
):
    project = _walk(project, community_staff, street_staff, state)
    assert project.state == state
    actor = street_staff  # street staff hold every role the steps need
    from_states, to_state = PROJECT_TRANSITIONS[action]
    if state in from_states:
        assert _do(action, actor, project.pk).state == to_state
        assert project.events.last().action == action
    else:
        with pytest.raises(Conflict):
            _do(action, actor, project.pk)


def test_roles(project, community_staff, grid_worker, supervisor, street_staff):
    # The project is the community's: a grid worker does not see it, a
    # supervisor sees it and changes nothing.
    with pytest.raises(OutOfScope):
        services.micro_project_screen(actor=grid_worker, project_id=project.pk)
    with pytest.raises(NotAllowed):
        services.micro_project_screen(actor=supervisor, project_id=project.pk)
    services.micro_project_screen(actor=community_staff, project_id=project.pk)
    # The government pays: the community cannot approve its own budget.
    with pytest.raises(NotAllowed):
        services.micro_project_approve(
            actor=community_staff, project_id=project.pk, budget="1"
        )
    with pytest.raises(NotAllowed):
        services.micro_project_propose(
            actor=supervisor,
            region=project.community,
            title="x",
            description="y",
        )


def test_money_checks(project, community_staff, street_staff):
    services.micro_project_screen(actor=community_staff, project_id=project.pk)
    for bad in ("0", "-1", "abc", None, "1e20", "NaN"):
        with pytest.raises(DomainError):
            services.micro_project_approve(
                actor=street_staff, project_id=project.pk, budget=bad
            )
    services.micro_project_approve(
        actor=street_staff, project_id=project.pk, budget="500"
    )
    services.micro_project_start(actor=community_staff, project_id=project.pk)
    with pytest.raises(DomainError) as over:
        services.micro_project_accept(
            actor=street_staff, project_id=project.pk, spent="500.01", result="好"
        )
    assert over.value.code == "over_budget"


def test_milestones_only_while_in_progress(
    project, community_staff, street_staff, grid_worker, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(Conflict):
        services.micro_project_milestone_add(
            actor=community_staff, project_id=project.pk, note="开工"
        )
    project = _walk(project, community_staff, street_staff, ProjectState.IN_PROGRESS)
    with pytest.raises(NotAllowed):
        services.micro_project_milestone_add(
            actor=grid_worker, project_id=project.pk, note="x"
        )
    milestone = services.micro_project_milestone_add(
        actor=community_staff,
        project_id=project.pk,
        note="扶手到货",
        photo=png_upload(),
    )
    assert milestone.photo.name.startswith("projects/")


def test_scope_and_totals(tree, project, community_staff, street_staff):
    _walk(project, community_staff, street_staff, ProjectState.ACCEPTED)
    staff_b = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])
    with pytest.raises(OutOfScope):
        services.micro_project_screen(actor=staff_b, project_id=project.pk)
    assert selectors.micro_project_totals(actor=staff_b) == []
    worker_b = UserFactory(role=UserRole.GRID_WORKER, region=tree["grids"][2])
    services.micro_project_propose(
        actor=worker_b,
        region=tree["grids"][2],
        title="修路灯",
        description="广场路灯坏了",
    )
    with pytest.raises(OutOfScope):
        services.micro_project_propose(
            actor=worker_b,
            region=tree["grids"][0],
            title="x",
            description="y",
        )
    rows = {
        r["community__name"]: r
        for r in selectors.micro_project_totals(actor=street_staff)
    }
    first = rows[tree["communities"][0].name]
    assert (first["projects"], first["accepted"]) == (1, 1)
    assert (first["budget"], first["spent"]) == (Decimal("8000"), Decimal("7650.50"))
    second = rows[tree["communities"][1].name]
    assert (second["projects"], second["accepted"], second["spent"]) == (1, 0, None)


def test_results_page_masks_the_proposer_and_keeps_to_the_area(
    client, tree, project, community_staff, street_staff
):
    from django.urls import reverse

    _walk(project, community_staff, street_staff, ProjectState.ACCEPTED)
    client.force_login(community_staff)
    body = client.get(reverse("partyorg:micro_project_results")).content.decode()
    assert "加装楼道扶手" in body and "7650.50" in body
    assert "张*芳" in body and "张桂芳" not in body
    other = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])
    client.force_login(other)
    body = client.get(reverse("partyorg:micro_project_results")).content.decode()
    assert "加装楼道扶手" not in body
