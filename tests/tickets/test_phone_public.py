"""The residents' pages (码上办): the report form a poster opens, without an
account, and the tracking link."""

import io
import time

import pytest
from django.core import signing
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.tickets.factories import walk_to
from tickets import services
from tickets.choices import Source, Stage
from tickets.field_forms import STARTED_SALT
from tickets.models import Ticket
from tickets.phone_field import poster_token, report_url_for

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 20, 20)).save(out, format="JPEG")
    return SimpleUploadedFile("r.jpg", out.getvalue(), content_type="image/jpeg")


def started(seconds_ago=30) -> str:
    return signing.dumps(int(time.time()) - seconds_ago, salt=STARTED_SALT)


def form_data(**kw):
    data = {
        "description": "小区东门路灯坏了三天",
        "phone": PHONE,
        "started": started(),
        "website": "",
        "idempotency_key": "resident-key-0001",
    }
    data.update(kw)
    return data


def test_the_form_opens_without_an_account_and_without_the_tab_bar(client, tree):
    response = client.get(report_url_for(tree["grids"][0]))
    body = response.content.decode()
    assert response.status_code == 200
    assert tree["grids"][0].name in body
    assert 'name="idempotency_key"' in body
    assert "m-tabs" not in body
    assert 'capture="environment"' in body


def test_a_forged_or_non_grid_poster_is_404(client, tree):
    assert (
        client.get(reverse("m:tickets:report_public", args=["x:y"])).status_code == 404
    )
    community = tree["communities"][0]
    url = reverse("m:tickets:report_public", args=[poster_token(community)])
    assert client.get(url).status_code == 404


def test_report_lands_in_triage_and_the_link_tracks_it(
    client, tree, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    url = report_url_for(tree["grids"][0])
    response = client.post(url, form_data(photos=[jpeg()]))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.source == Source.SELF_REPORT and ticket.stage == Stage.RECEIVED
    assert ticket.photos.count() == 1
    track = client.get(response["Location"])
    body = track.content.decode()
    assert track.status_code == 200
    assert ticket.display_number in body
    assert PHONE not in body and PHONE[-4:] not in body


def test_double_submit_is_one_ticket(client, tree):
    url = report_url_for(tree["grids"][0])
    first = client.post(url, form_data())
    second = client.post(url, form_data())
    assert first["Location"] == second["Location"]
    assert Ticket.objects.count() == 1


def test_honeypot_and_too_fast_are_refused(client, tree):
    url = report_url_for(tree["grids"][0])
    bot = client.post(url, form_data(website="http://spam.example"))
    fast = client.post(
        url, form_data(started=started(0), idempotency_key="resident-key-0002")
    )
    forged = client.post(
        url, form_data(started="123", idempotency_key="resident-key-0003")
    )
    for response in (bot, fast, forged):
        assert response.status_code == 200
    assert "小区东门路灯坏了三天" in fast.content.decode()  # kept for the resend
    assert not Ticket.objects.exists()


def test_rate_limit_per_address_shows_a_message(client, tree, settings):
    settings.TICKETS_SELF_REPORT_PER_IP = 1
    url = report_url_for(tree["grids"][0])
    client.post(url, form_data())
    refused = client.post(
        url,
        form_data(
            description="另一件事", phone="13900000000", idempotency_key="k-00000002"
        ),
    )
    assert refused.status_code == 200
    assert Ticket.objects.count() == 1


def test_a_bad_phone_is_shown_again_with_a_message(client, tree):
    response = client.post(report_url_for(tree["grids"][0]), form_data(phone="123"))
    assert response.status_code == 200
    assert not Ticket.objects.exists()


def test_tracking_page_offers_the_evaluation_once_handled(client, lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    url = reverse(
        "m:tickets:track", args=[ticket.pk, services.tracking_token(ticket=ticket)]
    )
    body = client.get(url).content.decode()
    assert f"/tickets/evaluate/{ticket.pk}/" in body
    assert lifecycle["handler"].first_name not in body
    assert ticket.reporter_phone not in body


def test_tracking_link_of_another_ticket_is_refused(client, lifecycle):
    mine = walk_to(Stage.RECEIVED, **lifecycle)
    other = walk_to(Stage.RECEIVED, description="另一件", **lifecycle)
    token = services.tracking_token(ticket=mine)
    response = client.get(reverse("m:tickets:track", args=[other.pk, token]))
    assert response.status_code == 404
    assert other.description not in response.content.decode()


@pytest.mark.parametrize("stage", [Stage.RECEIVED, Stage.CLOSED])
def test_public_pages_query_count_is_fixed(
    client, lifecycle, tree, stage, django_assert_max_num_queries
):
    """A ticket with one event and one with its whole life: the same bound."""
    ticket = walk_to(stage, **lifecycle)
    url = reverse(
        "m:tickets:track", args=[ticket.pk, services.tracking_token(ticket=ticket)]
    )
    with django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(report_url_for(tree["grids"][0])).status_code == 200


def test_the_report_is_in_the_street_staff_triage_queue(client, tree, street_staff):
    url = report_url_for(tree["grids"][0])
    client.post(url, form_data())
    ticket = Ticket.objects.get()
    client.force_login(street_staff)
    queue = client.get(reverse("admin:tickets_triagequeueticket_changelist"))
    body = queue.content.decode()
    assert queue.status_code == 200
    assert ticket.display_number in body
    assert PHONE not in body  # masked for staff too
