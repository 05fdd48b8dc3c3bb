"""Counts that stop at a cap: the ticket lists (admin and selector) count at
most ``cap + 1`` rows and say "1,000+" past it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from grids.choices import UserRole
from tests.grids.factories import UserFactory
from tests.tickets.factories import TicketFactory
from tickets import selectors
from tickets.pagination import CappedCount, CappedPaginator, capped_count

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_tickets(tree):
    return [TicketFactory(region=tree["grids"][i % 4]) for i in range(5)]


def test_a_count_stops_at_the_cap(five_tickets):
    from tickets.models import Ticket

    assert capped_count(Ticket.objects.all(), cap=3) == CappedCount(3, True)
    assert capped_count(Ticket.objects.all(), cap=5) == CappedCount(5, False)
    with translation.override("en"):
        assert str(CappedCount(1000, True)) == "1,000+"
    with translation.override("zh-hans"):  # grouped by 万: 1,0000
        assert str(CappedCount(1000, True)) == "1000+"
        assert str(CappedCount(999, False)) == "999"


def test_the_count_reads_no_more_than_the_cap(five_tickets):
    from tickets.models import Ticket

    with CaptureQueriesContext(connection) as captured:
        capped_count(Ticket.objects.all(), cap=3)
    (statement,) = captured.captured_queries
    assert "LIMIT 4" in statement["sql"]
    assert statement["sql"].startswith("SELECT COUNT(*)")


def test_ticket_count_is_the_scoped_list_s_capped(tree, other_tree, five_tickets):
    TicketFactory(region=other_tree["grids"][0])
    supervisor = UserFactory(role=UserRole.SUPERVISOR, region=tree["district"])
    assert selectors.ticket_count(actor=supervisor, cap=10) == CappedCount(5, False)
    assert selectors.ticket_count(actor=supervisor, cap=2) == CappedCount(2, True)
    staff = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])
    assert selectors.ticket_count(actor=staff) == CappedCount(2, False)


@pytest.mark.parametrize(
    "page", ["tickets_ticket_changelist", "tickets_triagequeueticket_changelist"]
)
def test_the_changelists_count_once_and_label_a_capped_count(
    client, monkeypatch, tree, five_tickets, page, django_assert_max_num_queries
):
    monkeypatch.setattr(CappedPaginator, "cap", 3)
    supervisor = UserFactory(role=UserRole.SUPERVISOR, region=tree["district"])
    client.force_login(supervisor)
    url = reverse(f"admin:{page}")
    client.get(url)  # the session and the user's caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    counts = [
        q["sql"]
        for q in captured
        if q["sql"].startswith("SELECT COUNT(*)") and "tickets_ticket" in q["sql"]
    ]
    assert len(counts) == 1, counts  # no second count of the whole scope
    assert "LIMIT 4" in counts[0]
    html = response.content.decode()
    assert "3+" in html
    with django_assert_max_num_queries(len(captured)):
        client.get(url + "?q=问题")


def test_a_list_under_the_cap_shows_its_exact_count(client, tree, five_tickets):
    supervisor = UserFactory(role=UserRole.SUPERVISOR, region=tree["district"])
    client.force_login(supervisor)
    html = client.get(reverse("admin:tickets_ticket_changelist")).content.decode()
    assert "5+" not in html
    assert "5 " in html
