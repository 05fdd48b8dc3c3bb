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
from tickets.choices import Stage
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


@pytest.fixture
def spread_tickets(tree, other_tree):
    """Tickets received at distinct and equal times, in and out of a community."""
    import datetime as dt

    from django.utils import timezone

    start = timezone.now() - dt.timedelta(days=30)
    made = []
    for n in range(12):
        grid = tree["grids"][n % 4] if n % 5 else other_tree["grids"][0]
        # Pairs received at the same instant: the id breaks the tie.
        made.append(
            TicketFactory(region=grid, received_at=start + dt.timedelta(n // 2))
        )
    return made


def _expected(actor):
    from tickets.models import Ticket

    return list(
        Ticket.objects.visible_to(actor)
        .order_by("-received_at", "-pk")
        .values_list("pk", flat=True)
    )


@pytest.mark.parametrize("level", ["district", "community", "grid"])
def test_each_scope_s_order_is_newest_first_whatever_its_plan(
    tree, spread_tickets, level
):
    role, region = {
        "district": (UserRole.SUPERVISOR, tree["district"]),
        "community": (UserRole.COMMUNITY_STAFF, tree["communities"][0]),
        "grid": (UserRole.GRID_WORKER, tree["grids"][0]),
    }[level]
    actor = UserFactory(role=role, region=region)
    ordering = selectors.newest_first(actor)
    assert (ordering == ("-received_at", "-pk")) == (level == "district")
    listed = [t.pk for t in selectors.ticket_list(actor=actor)]
    assert listed == _expected(actor) and listed


@pytest.mark.parametrize("stage", [None, Stage.CLOSED])
def test_a_street_filtered_by_stage_keeps_the_newest_first_order(
    tree, spread_tickets, stage
):
    """A street's list filtered by stage is sorted, not walked (the bitmap of
    ``ticket_street_stage_recv``); without the filter it walks. Same order."""
    from tickets.models import Ticket

    Ticket.objects.filter(pk__in=[t.pk for t in spread_tickets[::3]]).update(
        stage=Stage.CLOSED
    )
    staff = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    filters = {"stage": [stage]} if stage else {}
    walked = selectors.newest_first(staff, filters) == ("-received_at", "-pk")
    assert walked == (stage is None)
    expected = Ticket.objects.visible_to(staff)
    if stage:
        expected = expected.filter(stage=stage)
    expected = list(
        expected.order_by("-received_at", "-pk").values_list("pk", flat=True)
    )
    listed = [t.pk for t in selectors.ticket_list(actor=staff, filters=filters)]
    assert listed == expected and listed


def test_a_page_is_its_ids_then_its_rows_in_the_list_s_order(
    tree, spread_tickets, django_assert_num_queries
):
    staff = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0])
    expected = _expected(staff)
    paginator = CappedPaginator(selectors.ticket_list(actor=staff), 2)
    paginator.count  # noqa: B018 (the capped count: read before the page)
    with django_assert_num_queries(2):  # the page's ids, then its rows and joins
        page = paginator.page(2)
        rows = list(page.object_list)
        [(t.region.name, t.category) for t in rows]
    assert [t.pk for t in rows] == expected[2:4]
    assert [t.pk for t in paginator.page(paginator.num_pages).object_list] == (
        expected[(paginator.num_pages - 1) * 2 :]
    )


def test_the_community_changelist_lists_its_own_tickets_newest_first(
    client, tree, spread_tickets
):
    staff = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0])
    client.force_login(staff)
    response = client.get(reverse("admin:tickets_ticket_changelist"))
    assert response.status_code == 200
    shown = [t.pk for t in response.context["cl"].result_list]
    assert shown == _expected(staff)[: len(shown)] and shown
