"""No dead ends: the report pages lead back to the admin (staff) or the phone menu
(grid workers); the admin index and the phone menu list the reports a user may
open (报表); Django's "选择 … 来修改" list titles read as "… 列表"."""

import pytest
from django.urls import reverse

from points.links import rankings_url
from tests.grids.factories import UserFactory
from tests.partyorg.factories import make_party_tree

pytestmark = pytest.mark.django_db

REPORT_PAGES = ["partyorg:coverage", "partyorg:service_totals"]


def _reports_block(body: str) -> str:
    assert 'id="reports"' in body
    return body.split('id="reports"')[1].split("</table>")[0]


@pytest.mark.parametrize("who", ["street_staff", "community_staff", "supervisor"])
def test_admin_index_lists_the_reports(client, request, tree, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    body = client.get(reverse("admin:index")).content.decode()
    block = _reports_block(body)
    assert "报表" in block
    for name in REPORT_PAGES:
        assert f'href="{reverse(name)}"' in block
    # one rankings link per community of the user's area
    community = tree["communities"][0]
    assert reverse("points:rankings", args=[community.pk]) in block
    assert reverse("admin:points_ledgerentry_export") in block


def test_rankings_links_stay_inside_the_area(client, community_staff, tree):
    client.force_login(community_staff)
    block = _reports_block(client.get(reverse("admin:index")).content.decode())
    assert reverse("points:rankings", args=[tree["communities"][0].pk]) in block
    assert reverse("points:rankings", args=[tree["communities"][1].pk]) not in block


def test_no_reports_block_for_an_account_without_an_area(client, tree):
    nobody = UserFactory(role="", region=None)
    client.force_login(nobody)
    response = client.get(reverse("admin:index"))
    assert 'id="reports"' not in response.content.decode()


def test_the_phone_menu_lists_the_reports_a_grid_worker_may_open(
    client, grid_worker, tree
):
    client.force_login(grid_worker)
    # "/" sends a grid worker to the phone app, whose home links its reports page.
    home = client.get(reverse("home"), follow=True)
    assert reverse("m:reports") in home.content.decode()
    body = client.get(reverse("m:reports")).content.decode()
    assert "报表" in body
    for name in REPORT_PAGES:
        assert reverse(name) in body
    # their grid's community ranking, found above the grid
    assert reverse("points:rankings", args=[tree["communities"][0].pk]) in body
    assert reverse("admin:points_ledgerentry_export") not in body


@pytest.mark.parametrize("name", REPORT_PAGES)
def test_report_pages_lead_staff_back_to_the_admin(client, street_staff, tree, name):
    make_party_tree(tree)
    client.force_login(street_staff)
    body = client.get(reverse(name)).content.decode()
    crumbs = body.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert f'href="{reverse("admin:index")}"' in crumbs
    assert "管理首页" in crumbs and "报表" in crumbs
    assert f'href="{reverse("admin:index")}"' in body.split("</header>")[0]


@pytest.mark.parametrize("name", REPORT_PAGES)
def test_report_pages_lead_grid_workers_back_to_their_menu(
    client, grid_worker, tree, name
):
    make_party_tree(tree)
    client.force_login(grid_worker)
    body = client.get(reverse(name)).content.decode()
    crumbs = body.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert f'href="{reverse("home")}"' in crumbs and "我的工作" in crumbs
    assert reverse("admin:index") not in body


def test_coverage_drill_down_leads_one_level_up(client, street_staff, tree):
    make_party_tree(tree)
    client.force_login(street_staff)
    community = tree["communities"][0]
    body = client.get(
        reverse("partyorg:coverage"), {"region": community.pk}
    ).content.decode()
    crumbs = body.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert f'href="?region={community.parent_id}"' in crumbs
    assert community.name in crumbs
    # at the user's own area there is no level above to go to
    body = client.get(reverse("partyorg:coverage")).content.decode()
    crumbs = body.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert "?region=" not in crumbs


def test_public_pages_show_no_staff_navigation(client, tree):
    community = tree["communities"][0]
    body = client.get(rankings_url(community)).content
    assert reverse("admin:index").encode() not in body


@pytest.mark.parametrize(
    ("who", "url_name", "title"),
    [
        ("street_staff", "admin:tickets_ticket_changelist", "工单列表"),
        ("supervisor", "admin:tickets_ticket_changelist", "工单列表"),
        ("street_staff", "admin:grids_region_changelist", "列表"),
    ],
)
def test_list_titles_read_as_lists(client, request, who, url_name, title):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    body = response.content.decode()
    heading = body.split("<h1>")[1].split("</h1>")[0]
    assert title in heading
    assert "选择" not in heading and "来修改" not in body and "来查看" not in body


def test_list_titles_stay_django_s_in_english(client, street_staff):
    client.force_login(street_staff)
    response = client.get(
        reverse("admin:tickets_ticket_changelist"), headers={"accept-language": "en"}
    )
    assert "Select ticket to view" in response.content.decode()
