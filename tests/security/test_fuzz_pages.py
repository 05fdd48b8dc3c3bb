"""The partyorg and tickets pages outside the admin's model forms — the phone
pages, the resident's evaluation link, the ticket's action forms and the bulk
dispatch form — posted with one hostile value at a time: no 500."""

import re

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from tests.partyorg.factories import WishFactory, make_party_tree
from tests.security.fuzz import fuzz_html, fuzz_page, post_forms
from tests.tickets.factories import walk_to
from tickets import services
from tickets.choices import Stage

pytestmark = pytest.mark.django_db


def test_the_wish_phone_pages(client, tree, grid_worker):
    make_party_tree(tree)
    wish = WishFactory(region=tree["grids"][0])
    client.force_login(grid_worker)
    failures = fuzz_page(client, reverse("m:party:wish_new"))
    failures += fuzz_page(client, reverse("m:party:wish_detail", args=[wish.pk]))
    assert not failures, "\n".join(failures)


def test_the_admin_wish_act_page(client, tree, community_staff):
    make_party_tree(tree)
    wish = WishFactory(region=tree["grids"][0])
    client.force_login(community_staff)
    failures = fuzz_page(client, reverse("admin:partyorg_wish_act", args=[wish.pk]))
    assert not failures, "\n".join(failures)


def test_the_evaluation_link_page(client, lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    failures = fuzz_page(client, services.evaluation_url(ticket=ticket))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("stage", [Stage.RECEIVED, Stage.HANDLED])
def test_the_ticket_action_pages(client, lifecycle, stage):
    """Every action offered on the ticket page (its own page or a form on the
    ticket page)."""
    ticket = walk_to(stage, **lifecycle)
    client.force_login(lifecycle["street_staff"])
    url = reverse("admin:tickets_ticket_change", args=[ticket.pk])
    html = client.get(url).content.decode()
    actions = sorted(set(re.findall(r'href="([^"]*/action/[^"]+/)"', html)))
    assert actions or post_forms(html, url)
    failures = fuzz_html(client, html, url)
    for action_url in actions:
        failures += fuzz_page(client, action_url)
    assert not failures, "\n".join(failures)


def test_the_bulk_dispatch_form(client, lifecycle):
    ticket = walk_to(Stage.TRIAGED, **lifecycle)
    client.force_login(lifecycle["street_staff"])
    url = reverse("admin:tickets_ticket_changelist")
    page = client.post(
        url, {"action": "bulk_dispatch", helpers.ACTION_CHECKBOX_NAME: [ticket.pk]}
    )
    assert page.status_code == 200
    failures = fuzz_html(client, page.content.decode(), url)
    assert not failures, "\n".join(failures)


def test_the_micro_project_phone_pages(
    client, tree, grid_worker, community_staff, street_staff
):
    from partyorg.microprojects import services as projects

    project = projects.micro_project_propose(
        actor=grid_worker, region=tree["grids"][0], title="扶手", description="缺扶手"
    )
    projects.micro_project_screen(actor=community_staff, project_id=project.pk)
    projects.micro_project_approve(
        actor=street_staff, project_id=project.pk, budget="100"
    )
    projects.micro_project_start(actor=community_staff, project_id=project.pk)
    client.force_login(community_staff)
    failures = fuzz_page(client, reverse("m:party:project_new"))
    failures += fuzz_page(client, reverse("m:party:project_detail", args=[project.pk]))
    assert not failures, "\n".join(failures)


def test_the_micro_project_step_forms(
    client, tree, grid_worker, community_staff, street_staff
):
    """The step forms of the project page (screen, refuse, approve, start,
    accept), each as the role that is offered it."""
    from partyorg.microprojects import services as projects

    def proposed(title):
        return projects.micro_project_propose(
            actor=grid_worker, region=tree["grids"][0], title=title, description="x"
        )

    def page(project):
        return reverse("m:party:project_detail", args=[project.pk])

    fresh, screened, approved, running = (proposed(t) for t in "ABCD")
    for project in (screened, approved, running):
        projects.micro_project_screen(actor=community_staff, project_id=project.pk)
    for project in (approved, running):
        projects.micro_project_approve(
            actor=street_staff, project_id=project.pk, budget="100"
        )
    projects.micro_project_start(actor=community_staff, project_id=running.pk)
    client.force_login(community_staff)
    failures = fuzz_page(client, page(fresh))
    failures += fuzz_page(client, page(approved))
    client.force_login(street_staff)
    failures += fuzz_page(client, page(screened))
    failures += fuzz_page(client, page(running))
    assert not failures, "\n".join(failures)
