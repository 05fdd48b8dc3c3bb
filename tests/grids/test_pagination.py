"""The capped count of the big grids changelists (grids.pagination): exact up to
the cap, "more than N" past it, with a bounded count statement and no action
across all pages."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grids.pagination import CappedCountPaginator
from tests.grids.factories import HouseholdFactory


@pytest.fixture
def cap_of_five(monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 5)


def _changelist(client, user):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:grids_household_changelist"))
    assert response.status_code == 200
    return response, [q["sql"] for q in queries.captured_queries]


def test_past_the_cap_the_list_says_more_than(client, supervisor, tree, cap_of_five):
    for n in range(8):
        HouseholdFactory(region=tree["grids"][n % 4])
    response, statements = _changelist(client, supervisor)
    cl = response.context["cl"]
    assert cl.paginator.capped
    assert cl.result_count == 5
    content = response.content.decode()
    assert "超过 5" in content
    assert "选中所有的" not in content  # no action across an uncounted list
    counts = [
        s
        for s in statements
        if s.startswith("SELECT COUNT(") and '"grids_household"' in s
    ]
    # One count, bounded: it reads at most cap + 1 rows.
    assert len(counts) == 1
    assert "LIMIT 6" in counts[0]


def test_under_the_cap_the_count_is_exact(client, supervisor, tree, other_tree):
    for n in range(3):
        HouseholdFactory(region=tree["grids"][n])
    HouseholdFactory(region=other_tree["grids"][0])
    response, _statements = _changelist(client, supervisor)
    cl = response.context["cl"]
    assert not cl.paginator.capped
    assert cl.result_count == 3
    assert "超过" not in response.content.decode()


def test_the_paginator_counts_a_list_too():
    paginator = CappedCountPaginator(list(range(12)), 5)
    paginator.cap = 10
    assert paginator.count == 10
    assert paginator.capped
    assert paginator.num_pages == 2
