"""``manage.py hotline_simulate`` against a live server: a day of signed pushes
become tickets; the replay is answered 200, the clash 409; the callback server
it plays receives and checks a callback."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.tickets.hotline_helpers import make_platform
from tickets.hotline import signing
from tickets.hotline.simulator import CallbackServer, day_of_pushes
from tickets.models import HotlineInbound, Ticket


@pytest.mark.django_db(transaction=True)
def test_the_simulator_pushes_a_day_of_tickets(live_server, tree, admin_user):
    platform = make_platform(admin_user, tree["street"], code="sim")
    out = io.StringIO()
    call_command(
        "hotline_simulate",
        url=live_server.url,
        platform="sim",
        secret=platform.plain_secret,
        count=6,
        listen="127.0.0.1:0",
        wait=0,
        stdout=out,
    )
    text = out.getvalue()
    assert Ticket.objects.count() == 6
    assert HotlineInbound.objects.count() == 6
    assert "pushed 6 in" in text and "201×6" in text
    assert "replay SIM" in text and ": 200 ticket" in text
    assert "hotline_number_conflict" in text
    assert "stage=received final=False" in text  # read back, signed
    assert "callbacks received: 0" in text


def test_a_wrong_secret_is_refused_by_the_command_checks():
    with pytest.raises(CommandError):
        call_command("hotline_simulate", platform="x", secret="", stdout=io.StringIO())


def test_the_day_is_in_the_past_and_numbered():
    now = timezone.now()
    pushes = day_of_pushes(10, now=now, prefix="T")
    assert len({p["number"] for p in pushes}) == 10
    assert all(p["received_at"] <= now.isoformat() for p in pushes)


def test_the_callback_server_checks_signatures_and_dedupes():
    import json
    import urllib.error
    import urllib.request

    statuses = []
    with CallbackServer(secret="s3cret") as server:
        for secret in ("s3cret", "s3cret", "wrong"):
            body = json.dumps({"delivery_id": "d1"}).encode()
            headers = signing.signed_headers(secret, "p", body)
            headers[signing.DELIVERY_HEADER] = "d1"
            request = urllib.request.Request(
                server.url, data=body, headers=headers, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    statuses.append(answer.status)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
    assert statuses == [200, 200, 401]
    assert [valid for _h, _b, valid in server.received] == [True, True, False]
    assert server.duplicates == 1
