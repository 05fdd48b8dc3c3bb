"""The tickets API: list (shared filters, scope, fixed queries per page),
detail, intake, the event log, and every action of the action layer as an
endpoint, walked from 受理 to 考单 through HTTP alone; refusals in the error
format (scope 404, role 403, wrong stage 409, bad input 400)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api_client import token_client
from tests.tickets.factories import new_ticket, walk_to
from tickets import actions
from tickets.choices import Stage
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
TICKETS = "/api/v1/tickets/"


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_every_action_has_its_endpoint():
    from django.urls import resolve

    for action in actions.SPECS:
        match = resolve(f"{TICKETS}1/{action.replace('_', '-')}/")
        assert match.url_name == f"ticket-{action.replace('_', '-')}"


def test_walk_from_intake_to_assessment_through_the_api(
    tree, street_staff, community_staff, handler, category
):
    staff = token_client(street_staff)
    response = staff.post(
        TICKETS,
        {
            "source": "patrol",
            "region": tree["grids"][0].pk,
            "description": "小区门口占道经营",
            "reporter_name": "李四",
            "reporter_phone": "13800001111",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    ticket = response.json()
    assert ticket["stage"] == Stage.RECEIVED
    assert ticket["reporter_phone"] == "138****1111"
    assert ticket["reporter_name"] == "李*"
    assert "triage" in ticket["available_actions"]
    url = f"{TICKETS}{ticket['id']}/"

    def act(client, action, body):
        response = client.post(f"{url}{action}/", body, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    assert (
        act(
            staff,
            "triage",
            {
                "category": category.pk,
                "region": tree["grids"][0].pk,
                "responsible_leader": street_staff.pk,
            },
        )["stage"]
        == Stage.TRIAGED
    )
    body = {"handling_region": tree["communities"][0].pk, "instructions": "请处理"}
    assert act(staff, "dispatch", body)["stage"] == Stage.DISPATCHED
    community = token_client(community_staff)
    assert act(community, "accept", {"handler": handler.pk})["stage"] == Stage.ACCEPTED
    worker = token_client(handler)
    handled = act(worker, "handle", {"result": "已清理", "cause": "摊贩"})
    assert handled["stage"] == Stage.HANDLED
    verdict = {"verdict": "satisfied", "call_note": "回访本人"}
    assert act(community, "evaluate", verdict)["stage"] == Stage.EVALUATED
    scores = {"satisfaction_score": 100, "timeliness_score": 90, "effect_score": 95}
    assert act(staff, "assess", scores)["stage"] == Stage.CLOSED
    events = staff.get(f"{url}events/").json()
    assert [e["action"] for e in events] == [
        "create",
        "triage",
        "dispatch",
        "accept",
        "handle",
        "evaluate",
        "assess",
    ]
    # The log never carries the reporter's personal data.
    assert "13800001111" not in staff.get(f"{url}events/").content.decode()


def test_return_report_up_and_merge_endpoints(lifecycle, tree, street_staff):
    dispatched = walk_to(Stage.DISPATCHED, **lifecycle)
    community = token_client(lifecycle["community_staff"])
    response = community.post(
        f"{TICKETS}{dispatched.pk}/return/", {"reason": "不属本社区"}, format="json"
    )
    assert response.status_code == 200 and response.json()["stage"] == Stage.TRIAGED
    accepted = walk_to(Stage.ACCEPTED, **lifecycle)
    response = token_client(lifecycle["handler"]).post(
        f"{TICKETS}{accepted.pk}/report-up/", {"reason": "需要部门协调"}, format="json"
    )
    assert response.status_code == 200, response.content
    first = new_ticket(street_staff, tree)
    second = new_ticket(street_staff, tree)
    response = token_client(street_staff).post(
        f"{TICKETS}{second.pk}/merge/", {"into": first.number}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == Stage.MERGED


def test_another_communitys_ticket_is_404(lifecycle, tree, other_community_staff):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    client = token_client(other_community_staff)
    assert client.get(f"{TICKETS}{ticket.pk}/").status_code == 404
    assert client.get(f"{TICKETS}{ticket.pk}/events/").status_code == 404
    response = client.post(
        f"{TICKETS}{ticket.pk}/accept/",
        {"handler": lifecycle["handler"].pk},
        format="json",
    )
    assert response.status_code == 404
    # Exactly what a ticket that does not exist gives.
    missing = client.post(f"{TICKETS}999999999/accept/", {"handler": 1}, format="json")
    assert missing.status_code == 404 and missing.json() == response.json()
    assert ticket.pk not in _ids(client.get(TICKETS))
    ticket.refresh_from_db()
    assert ticket.stage == Stage.DISPATCHED


def test_wrong_stage_is_409_and_wrong_role_403(lifecycle, supervisor):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    community = token_client(lifecycle["community_staff"])
    response = community.post(
        f"{TICKETS}{ticket.pk}/return/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 409
    assert set(response.json()) == {"code", "message", "extra"}
    response = token_client(supervisor).post(
        f"{TICKETS}{ticket.pk}/report-up/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 403
    response = token_client(supervisor).post(
        TICKETS,
        {
            "source": "patrol",
            "region": lifecycle["tree"]["grids"][0].pk,
            "description": "x",
        },
        format="json",
    )
    assert response.status_code == 403
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"handler": "abc"},
        {"handler": None},
        {"handler": [1, 2]},
        {"handler": {"x": 1}},
        {"handler": 10**30},
        [],
        "text",
    ],
)
def test_bad_action_input_is_400(lifecycle, body):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    response = token_client(lifecycle["community_staff"]).post(
        f"{TICKETS}{ticket.pk}/accept/", body, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    ticket.refresh_from_db()
    assert ticket.stage == Stage.DISPATCHED


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"source": "patrol", "region": "x", "description": "y"}',
        b'{"source": "nonsense", "region": 1, "description": "y"}',
        b'{"source": "patrol", "region": 1, "description": ""}',
        b'{"source": "patrol", "region": 1, "description": "y", "latitude": "NaN"}',
        b'{"source": "patrol", "region": 1, "description": "' + b"x" * 6000 + b'"}',
        b'{"source": "patrol", "region": 1, "description": "y", "reporter_phone": "12"}',
        b"[]",
        b"null",
    ],
)
def test_malformed_intake_is_400(street_staff, body):
    response = token_client(street_staff).post(
        TICKETS, body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"code", "message", "extra"}
    assert not Ticket.objects.exists()


def test_hotline_replay_and_clash(street_staff, tree):
    client = token_client(street_staff)
    body = {
        "source": "hotline",
        "hotline_number": "12345-2026-1",
        "region": tree["grids"][0].pk,
        "description": "噪音扰民",
    }
    first = client.post(TICKETS, body, format="json")
    again = client.post(TICKETS, body, format="json")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    clash = client.post(TICKETS, {**body, "description": "别的事"}, format="json")
    assert clash.status_code == 409
    assert clash.json()["code"] == "hotline_number_conflict"


def test_list_filters_are_the_shared_filterset(street_staff, tree, lifecycle):
    received = new_ticket(street_staff, tree)
    dispatched = walk_to(Stage.DISPATCHED, **lifecycle)
    client = token_client(street_staff)
    assert _ids(client.get(f"{TICKETS}?stage=received")) == [received.pk]
    assert _ids(client.get(f"{TICKETS}?stage=dispatched")) == [dispatched.pk]
    other_grid = new_ticket(street_staff, tree, region=tree["grids"][3])
    region = tree["communities"][1].pk
    assert _ids(client.get(f"{TICKETS}?region={region}")) == [other_grid.pk]
    bad = client.get(f"{TICKETS}?stage=nonsense")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_cursor_pages_through_everything_once(street_staff, tree):
    made = {new_ticket(street_staff, tree).pk for _ in range(7)}
    client = token_client(street_staff)
    seen, url = [], f"{TICKETS}?page_size=3"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(made) and len(seen) == len(made)


@pytest.mark.parametrize("stage", [None, Stage.CLOSED])
def test_a_street_filtered_by_stage_pages_newest_first_through_its_sorted_plan(
    street_staff, tree, stage
):
    """A street's list filtered by stage is sorted, not walked
    (``selectors.newest_first_key``, as in the admin); its cursor pages give
    every ticket once, newest first, the same as the walked order."""
    import datetime as dt

    from django.utils import timezone

    made = [new_ticket(street_staff, tree).pk for _ in range(9)]
    start = timezone.now() - dt.timedelta(days=1)
    for n, pk in enumerate(made):
        # Pairs received at the same instant: the id breaks the tie.
        Ticket.objects.filter(pk=pk).update(
            received_at=start + dt.timedelta(minutes=n // 2),
            stage=Stage.CLOSED if n % 3 else Stage.RECEIVED,
        )
    expected = Ticket.objects.filter(pk__in=made)
    if stage:
        expected = expected.filter(stage=stage)
    expected = list(
        expected.order_by("-received_at", "-pk").values_list("pk", flat=True)
    )
    client = token_client(street_staff)
    seen, url = [], f"{TICKETS}?page_size=2" + (f"&stage={stage}" if stage else "")
    with CaptureQueriesContext(connection) as queries:
        while url:
            page = client.get(url).json()
            seen += [row["id"] for row in page["results"]]
            url = page["next"]
    assert seen == expected
    sorted_plan = any("interval" in q["sql"].lower() for q in queries)
    assert sorted_plan == (stage is not None and connection.vendor == "postgresql")


def test_a_page_costs_the_same_whatever_its_length(street_staff, tree, lifecycle):
    client = token_client(street_staff)
    client.get(TICKETS)  # the token's last use written once
    walk_to(Stage.ACCEPTED, **lifecycle)
    with CaptureQueriesContext(connection) as one:
        assert client.get(TICKETS).status_code == 200
    for _ in range(5):
        walk_to(Stage.ACCEPTED, **lifecycle)
    with CaptureQueriesContext(connection) as six:
        assert client.get(TICKETS).status_code == 200
    assert len(six) == len(one) <= 3


def test_detail_query_count_is_pinned(
    street_staff, lifecycle, django_assert_max_num_queries
):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    client = token_client(street_staff)
    client.get(TICKETS)
    with django_assert_max_num_queries(8):
        assert client.get(f"{TICKETS}{ticket.pk}/").status_code == 200


@pytest.mark.django_db(transaction=True)  # the request's own transaction
def test_intake_statements_are_pinned(street_staff, tree):
    """Token, key, place, calendar, number, ticket, event, kept answer: eight
    round trips inside the transaction, and no savepoint (the key's INSERT …
    ON CONFLICT needs none; the intake takes one only for a 12345 number)."""
    import uuid

    client = token_client(street_staff)
    body = {"source": "patrol", "region": tree["grids"][0].pk, "description": "x"}
    client.post(TICKETS, body, format="json")  # the token's last use written once
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            TICKETS, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
        )
    assert response.status_code == 201
    round_trips = [q["sql"] for q in captured.captured_queries]
    shown = "\n".join(s[:100] for s in round_trips)
    assert not [s for s in round_trips if "SAVEPOINT" in s], shown
    statements = [s for s in round_trips if s not in ("BEGIN", "COMMIT")]
    assert len(statements) <= 8, shown
    # With the transaction's BEGIN and COMMIT: 10 (14 with the savepoints of
    # before).
    assert len(round_trips) <= 10, shown
