"""The push's signature: bad, old, future, missing or unknown platform is a 401
in the API's error format, logged without the body's personal data; a replay
of a signed request inside the window is answered as the first (idempotent);
outside it, refused as old."""

import hashlib
import hmac
import json
import logging
import time

import pytest
from django.test import Client

from tests.tickets.hotline_helpers import payload, push
from tickets.hotline import signing
from tickets.models import HotlineInbound, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return Client(raise_request_exception=False)


def _refused(answer, reason):
    assert answer.status_code == 401, answer.content
    body = answer.json()
    assert body["code"] == "bad_signature"
    assert body["extra"] == {"reason": reason}
    assert body["message"]
    assert Ticket.objects.count() == 0
    assert HotlineInbound.objects.count() == 0


def test_the_scheme_is_hmac_sha256_over_timestamp_dot_body():
    body = b'{"number": "1"}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signing.signature("s3cret", "1700000000", body) == "sha256=" + expected


def test_a_bad_signature_is_refused_and_logged_without_the_body(api, platform, caplog):
    with caplog.at_level(logging.WARNING, logger="tickets.hotline"):
        answer = push(api, platform, secret="not-the-secret")
    _refused(answer, "mismatch")
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "mismatch" in logged and platform.code in logged
    assert "13800001111" not in logged and "李四" not in logged


def test_a_changed_body_under_a_valid_signature_is_refused(api, platform):
    body = json.dumps(payload()).encode()
    headers = signing.signed_headers(platform.plain_secret, platform.code, body)
    answer = api.post(
        "/api/v1/hotline/tickets",
        data=body.replace(b"13800001111", b"13900002222"),
        content_type="application/json",
        headers=headers,
    )
    _refused(answer, "mismatch")


def test_an_old_signature_is_refused(api, platform):
    _refused(push(api, platform, timestamp=time.time() - 301), "old")


def test_a_future_signature_is_refused(api, platform):
    _refused(push(api, platform, timestamp=time.time() + 301), "future")


def test_inside_the_window_either_way_is_accepted(api, platform):
    assert push(api, platform, timestamp=time.time() - 280).status_code == 201


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({signing.SIGNATURE_HEADER: None}, "missing"),
        ({signing.TIMESTAMP_HEADER: None}, "missing"),
        ({signing.PLATFORM_HEADER: None}, "missing"),
        ({signing.TIMESTAMP_HEADER: "yesterday"}, "malformed"),
        ({signing.TIMESTAMP_HEADER: "-5"}, "malformed"),
        ({signing.TIMESTAMP_HEADER: "9" * 40}, "malformed"),
        ({signing.PLATFORM_HEADER: "nobody"}, "unknown_platform"),
        ({signing.SIGNATURE_HEADER: "sha256="}, "mismatch"),
        ({signing.SIGNATURE_HEADER: "md5=abc"}, "mismatch"),
    ],
)
def test_missing_or_malformed_headers_are_refused(api, platform, headers, reason):
    _refused(push(api, platform, headers=headers), reason)


def test_a_signature_of_another_platform_is_refused(api, platform, tree, admin_user):
    from tests.tickets.hotline_helpers import make_platform

    other = make_platform(admin_user, tree["street"], code="other")
    _refused(push(api, platform, secret=other.plain_secret), "mismatch")


def test_a_replayed_request_inside_the_window_is_answered_as_the_first(api, platform):
    body = json.dumps(payload()).encode()
    headers = signing.signed_headers(platform.plain_secret, platform.code, body)

    def send():
        return api.post(
            "/api/v1/hotline/tickets",
            data=body,
            content_type="application/json",
            headers=headers,
        )

    first, replay = send(), send()
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json() == first.json()
    assert Ticket.objects.count() == 1


def test_a_replayed_request_after_the_window_is_refused(api, platform):
    sent_at = time.time() - 1000
    _refused(push(api, platform, timestamp=sent_at), "old")


def test_a_rotated_secret_stops_the_old_one(api, platform, admin_user):
    from tickets.hotline import services

    new = services.hotline_platform_rotate_secret(
        actor=admin_user, platform_id=platform.pk
    )
    _refused(push(api, platform), "mismatch")
    assert push(api, platform, secret=new).status_code == 201


def test_the_secret_is_stored_encrypted(platform):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret FROM tickets_hotlineplatform WHERE id = %s", [platform.pk]
        )
        (stored,) = cursor.fetchone()
    assert platform.plain_secret not in stored
    assert stored.startswith("gAAAAA")
