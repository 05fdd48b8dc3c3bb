"""The platform reads a ticket back (``GET /api/v1/hotline/tickets/{number}``):
signed like a push, over ``GET <path>``; its own numbers only; the stage and the
result in the callbacks' terms, never the caller's data; in the OpenAPI schema."""

import logging
import time

import pytest
from django.test import Client

from tests.api_client import token_client
from tests.tickets.factories import walk_to
from tests.tickets.hotline_helpers import URL, make_platform, push, read
from tickets import services as ticket_services
from tickets.choices import Source, Stage
from tickets.hotline import signing
from tickets.models import HotlineInbound

pytestmark = pytest.mark.django_db
NUMBER = "JN2026120600001"


@pytest.fixture
def api():
    return Client(raise_request_exception=False)


@pytest.fixture
def pushed(api, platform):
    answer = push(api, platform)
    assert answer.status_code == 201
    return answer.json()


def test_the_platform_reads_the_stage_and_result_back(
    api, platform, pushed, lifecycle, tree, street_staff
):
    answer = read(api, platform, NUMBER)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body == {
        "hotline_number": NUMBER,
        "ticket_number": pushed["ticket_number"],
        "stage": Stage.RECEIVED,
        "final": False,
        "sequence": None,
        "received_at": body["received_at"],
        "updated_at": body["updated_at"],
        "stage_deadline": body["stage_deadline"],
        "result": "",
        "verdict": "",
        "closed_at": None,
        "flags": pushed["flags"],
    }
    assert body["received_at"].startswith("2026-12-06T01:30:00")
    # Walk it on to 做单: the stage, the result and the last change follow.
    ticket_id = pushed["ticket_id"]
    ticket_services.ticket_triage(
        actor=street_staff,
        ticket_id=ticket_id,
        category=lifecycle["category"],
        region=tree["grids"][0],
        responsible_leader=street_staff,
    )
    ticket_services.ticket_dispatch(
        actor=street_staff,
        ticket_id=ticket_id,
        handling_region=tree["communities"][0],
        instructions="请处理",
    )
    ticket_services.ticket_accept(
        actor=lifecycle["community_staff"],
        ticket_id=ticket_id,
        handler=lifecycle["handler"],
    )
    ticket_services.ticket_handle(
        actor=lifecycle["handler"], ticket_id=ticket_id, result="摊位已劝离"
    )
    body = read(api, platform, NUMBER).json()
    assert body["stage"] == Stage.HANDLED and body["result"] == "摊位已劝离"
    inbound = HotlineInbound.objects.get()
    last = inbound.ticket.events.order_by("-pk").first()
    assert body["sequence"] == last.pk
    # The callback of that change carries the same sequence.
    delivery = inbound.ticket.hotline_deliveries.get(event=last)
    assert delivery.payload["sequence"] == body["sequence"]
    # Never the caller's data.
    text = read(api, platform, NUMBER).content.decode()
    assert "13800001111" not in text and "李四" not in text and "1111" not in text


def test_a_trailing_slash_is_the_same_read(api, platform, pushed):
    path = f"{URL}/{NUMBER}/"
    headers = signing.signed_headers(
        platform.plain_secret, platform.code, signing.read_message("GET", path)
    )
    answer = api.get(path, headers=headers)
    assert answer.status_code == 200 and answer.json()["hotline_number"] == NUMBER


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ({"secret": "not-the-secret"}, "mismatch"),
        ({"timestamp": time.time() - 3600}, "old"),
        ({"timestamp": time.time() + 3600}, "future"),
        ({"headers": {signing.SIGNATURE_HEADER: None}}, "missing"),
        ({"headers": {signing.TIMESTAMP_HEADER: "soon"}}, "malformed"),
        ({"headers": {signing.PLATFORM_HEADER: "nobody"}}, "unknown_platform"),
        # A signature made for another number does not open this one.
        ({"signed_path": f"{URL}/OTHER-1"}, "mismatch"),
    ],
)
def test_signature_failures_are_401_and_logged(
    api, platform, pushed, how, reason, caplog
):
    with caplog.at_level(logging.WARNING, logger="tickets.hotline"):
        answer = read(api, platform, NUMBER, **how)
    assert answer.status_code == 401, answer.content
    assert answer.json()["code"] == "bad_signature"
    assert answer.json()["extra"] == {"reason": reason}
    assert "read refused" in " ".join(r.getMessage() for r in caplog.records)


def test_a_push_signature_does_not_open_a_read(api, platform, pushed):
    body = b'{"number": "JN2026120600001"}'
    headers = signing.signed_headers(platform.plain_secret, platform.code, body)
    answer = api.get(f"{URL}/{NUMBER}", headers=headers)
    assert answer.status_code == 401


def test_another_platforms_number_is_404_like_a_missing_one(
    api, platform, pushed, tree, admin_user
):
    other = make_platform(admin_user, tree["street"], code="sd12345")
    answer = read(api, other, NUMBER)
    assert answer.status_code == 404
    missing = read(api, platform, "NO-SUCH-NUMBER")
    assert missing.status_code == 404
    assert answer.json() == missing.json()
    assert answer.json()["code"] == "not_found"


def test_a_ticket_made_with_that_number_elsewhere_is_not_read(api, platform, lifecycle):
    """A hotline number typed in by staff (not pushed by this platform)."""
    walk_to(
        Stage.RECEIVED,
        **lifecycle,
        source=Source.HOTLINE,
        hotline_number="STAFF-1",
    )
    assert read(api, platform, "STAFF-1").status_code == 404


def test_a_disabled_platform_cannot_read(api, platform, pushed):
    platform.enabled = False
    platform.save(update_fields=["enabled"])
    answer = read(api, platform, NUMBER)
    assert answer.status_code == 401
    assert answer.json()["extra"] == {"reason": "unknown_platform"}


def test_a_token_or_session_is_not_enough(api, platform, pushed, street_staff):
    answer = token_client(street_staff).get(f"{URL}/{NUMBER}")
    assert answer.status_code == 401
    assert answer.json()["extra"] == {"reason": "missing"}


def test_the_read_is_in_the_openapi_schema(street_staff):
    schema = token_client(street_staff).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/hotline/tickets/{number}/"]["get"]
    assert operation["operationId"] == "hotline_ticket_status"
    assert {"hotlineSignature": []} in operation["security"]
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["$ref"].endswith("/HotlineTicketStatus")


def test_the_read_costs_few_queries(
    api, platform, pushed, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3):
        assert read(api, platform, NUMBER).status_code == 200
