"""The points proposal under /m/: the old URL redirects, the resident is
picked by a scoped search (name, building, room), not from a list of everyone."""

import pytest
from django.urls import reverse

from tests.grids.factories import HouseholdFactory, ResidentFactory

pytestmark = pytest.mark.django_db


def test_old_propose_url_redirects_to_the_phone_app(client, grid_worker):
    client.force_login(grid_worker)
    response = client.get("/points/propose/")
    assert response.status_code in (301, 302)
    assert response["Location"] == reverse("m:points:propose")


def test_propose_page_lists_no_residents_until_searched(client, grid_worker, tree):
    household = HouseholdFactory(region=tree["grids"][0], address="3栋2单元502")
    ResidentFactory(household=household, name="赵一曼")
    client.force_login(grid_worker)
    page = client.get(reverse("m:points:propose")).content.decode()
    assert "赵一曼" not in page


def test_resident_search_by_name_room_and_scope(client, grid_worker, tree):
    mine = HouseholdFactory(region=tree["grids"][0], address="3栋2单元502")
    ResidentFactory(household=mine, name="赵一曼")
    other = HouseholdFactory(region=tree["grids"][1], address="9栋1单元101")
    ResidentFactory(household=other, name="赵二曼")
    client.force_login(grid_worker)
    url = reverse("m:points:resident_search")
    by_name = client.get(url, {"resident_q": "赵"})
    assert [r.name for r in by_name.context["residents"]] == ["赵一曼"]
    by_room = client.get(url, {"resident_q": "502"})
    assert [r.name for r in by_room.context["residents"]] == ["赵一曼"]
    assert client.get(url, {"resident_q": "101"}).context["residents"] == []


def test_resident_search_refused_to_a_role_that_cannot_propose(client, supervisor):
    client.force_login(supervisor)
    url = reverse("m:points:resident_search")
    assert client.get(url, {"resident_q": "赵"}).status_code == 404
