"""Photos through the API: the 做单 action and intake take multipart uploads
(checked by content, replayed by ``Idempotency-Key``), the ticket's detail lists
its photos as URLs of the scoped media view, which answers the same API token
and refuses another area; Open311 ``media_url`` posted and read back, and an
uploaded ``media`` kept for staff, never published."""

import io
import uuid
from xml.etree import ElementTree

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.api_client import token_client
from tests.tickets.factories import walk_to
from tickets.choices import Stage
from tickets.models import Ticket, TicketPhoto

pytestmark = pytest.mark.django_db
TICKETS = "/api/v1/tickets/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    from django.core.cache import cache

    cache.clear()
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = ""
    return tmp_path


def _jpeg(name="site.jpg", colour="green") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), colour).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), "image/jpeg")


def _handle(client, ticket, *photos, **headers):
    return client.post(
        f"{TICKETS}{ticket.pk}/handle/",
        {"result": "已清理", "photos": list(photos)},
        format="multipart",
        **headers,
    )


def test_handle_with_photos_lists_them_as_scoped_media_urls(
    lifecycle, tmp_path, other_community_staff
):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    client = token_client(lifecycle["handler"])
    response = _handle(client, ticket, _jpeg(), _jpeg("b.jpg", "red"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["stage"] == Stage.HANDLED
    assert len(body["photos"]) == 2
    stored = TicketPhoto.objects.filter(ticket=ticket).order_by("pk")
    for photo, row in zip(body["photos"], stored, strict=True):
        assert set(photo) == {"id", "event", "uploaded_at", "url"}
        assert photo["id"] == row.pk and photo["event"] == row.event_id
        assert photo["url"] == f"http://testserver/media/{row.image.name}"
    # No storage path, no name the client gave, no photo location.
    text = response.content.decode()
    assert str(tmp_path) not in text and "site.jpg" not in text
    assert "gps" not in text
    # The URL answers the same token, with the image.
    image = client.get(body["photos"][0]["url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert "Authorization" in image["Vary"]
    # Another community: the photo and the ticket are 404.
    outsider = token_client(other_community_staff)
    assert outsider.get(body["photos"][0]["url"]).status_code == 404
    assert outsider.get(f"{TICKETS}{ticket.pk}/").status_code == 404
    # The event log names the photos of the handling event.
    events = client.get(f"{TICKETS}{ticket.pk}/events/").json()
    assert events[-1]["photos"] == [row.pk for row in stored]


def test_media_view_refuses_a_bad_token_and_sends_anonymous_to_login(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    client = token_client(lifecycle["handler"])
    url = _handle(client, ticket, _jpeg()).json()["photos"][0]["url"]
    from rest_framework.test import APIClient

    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    response = bad.get(url)
    assert response.status_code == 401 and response["WWW-Authenticate"]
    anonymous = APIClient().get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


def test_a_file_that_is_not_a_photo_is_400_and_nothing_changes(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    fake = SimpleUploadedFile("x.jpg", b"<html>not a photo</html>", "image/jpeg")
    response = _handle(token_client(lifecycle["handler"]), ticket, fake)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "photo_type"
    ticket.refresh_from_db()
    assert ticket.stage == Stage.ACCEPTED
    assert not TicketPhoto.objects.exists()


def test_too_large_a_photo_is_400(lifecycle, settings):
    settings.UPLOAD_MAX_IMAGE_BYTES = 100
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    response = _handle(token_client(lifecycle["handler"]), ticket, _jpeg())
    assert response.status_code == 400
    assert response.json()["code"] == "photo_too_large"
    assert not TicketPhoto.objects.exists()


def test_handle_with_photos_replays_by_idempotency_key(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    client = token_client(lifecycle["handler"])
    key = str(uuid.uuid4())
    first = _handle(client, ticket, _jpeg(), HTTP_IDEMPOTENCY_KEY=key)
    again = _handle(client, ticket, _jpeg(), HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert TicketPhoto.objects.count() == 1
    other = _handle(client, ticket, _jpeg("other.jpg"), HTTP_IDEMPOTENCY_KEY=key)
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"


def test_intake_with_photos_multipart(street_staff, tree):
    client = token_client(street_staff)
    body = {
        "source": "patrol",
        "region": tree["grids"][0].pk,
        "description": "井盖缺失",
        "reporter_phone": "13800001111",
        "photos": [_jpeg()],
    }
    key = str(uuid.uuid4())
    response = client.post(TICKETS, body, format="multipart", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.content
    created = response.json()
    (photo,) = created["photos"]
    assert photo["url"].startswith("http://testserver/media/tickets/")
    assert created["reporter_phone"] == "138****1111"
    body["photos"] = [_jpeg()]
    again = client.post(TICKETS, body, format="multipart", HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 201 and again.json() == created
    assert Ticket.objects.count() == 1 and TicketPhoto.objects.count() == 1
    # A JSON body cannot carry a file.
    response = client.post(TICKETS, {**body, "photos": ["x"]}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_intake_without_photos_says_so_without_a_read(street_staff, tree):
    response = token_client(street_staff).post(
        TICKETS,
        {"source": "patrol", "region": tree["grids"][0].pk, "description": "x"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["photos"] == []


def test_detail_of_a_replayed_hotline_ticket_lists_its_photos(street_staff, tree):
    client = token_client(street_staff)
    body = {
        "source": "hotline",
        "hotline_number": "12345-2026-7",
        "region": tree["grids"][0].pk,
        "description": "噪音扰民",
    }
    first = client.post(TICKETS, {**body, "photos": [_jpeg()]}, format="multipart")
    assert first.status_code == 201, first.content
    again = client.post(TICKETS, body, format="json")
    assert again.status_code == 201
    assert again.json()["photos"] == first.json()["photos"] != []


# --- Open311 media_url ----------------------------------------------------------

BASE = "/open311/v2/"
PICTURE = "https://img.example.org/reports/1.jpg"


def test_open311_media_url_is_kept_and_read_back(client, open311_post):
    response = open311_post(media_url=PICTURE)
    assert response.status_code == 201, response.content
    (created,) = response.json()
    number = created["service_request_id"]
    (request,) = client.get(f"{BASE}requests/{number}.json").json()
    assert request["media_url"] == PICTURE
    root = ElementTree.fromstring(client.get(f"{BASE}requests/{number}.xml").content)
    assert root.findtext("request/media_url") == PICTURE
    (listed,) = client.get(f"{BASE}requests.json").json()
    assert listed["media_url"] == PICTURE
    event = Ticket.objects.get(number=number).events.get()
    assert event.data == {"channel": "open311", "media_url": PICTURE}


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "ftp://example.org/a.jpg",
        "not a url",
        "https://x.org/" + "a" * 500,
    ],
)
def test_open311_bad_media_url_is_400_and_nothing_written(open311_post, bad):
    response = open311_post(media_url=bad)
    assert response.status_code == 400
    (error,) = response.json()
    assert error["code"] == 400 and "media_url" in error["description"]
    assert not Ticket.objects.exists()


def test_open311_uploaded_media_is_for_staff_only(client, open311_post):
    response = open311_post(media=_jpeg())
    assert response.status_code == 201, response.content
    (created,) = response.json()
    ticket = Ticket.objects.get(number=created["service_request_id"])
    (photo,) = ticket.photos.all()
    assert photo.event.data == {"channel": "open311"}
    (request,) = client.get(
        f"{BASE}requests/{created['service_request_id']}.json"
    ).json()
    assert request["media_url"] == ""
    assert photo.image.name not in client.get(f"{BASE}requests.json").content.decode()
    assert client.get(f"/media/{photo.image.name}").status_code == 302  # login


def test_open311_media_that_is_not_a_photo_is_400(open311_post):
    fake = SimpleUploadedFile("a.jpg", b"GIF89a nothing", "image/jpeg")
    response = open311_post(media=fake)
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_open311_requests_page_stays_one_query_with_media(
    client, open311_post, django_assert_max_num_queries
):
    for n in range(3):
        open311_post(
            description=f"第{n}件", phone=f"1380000{n}000", media_url=f"{PICTURE}?{n}"
        )
    with django_assert_max_num_queries(2):
        listed = client.get(BASE + "requests.json").json()
    assert sorted(r["media_url"] for r in listed) == [
        f"{PICTURE}?{n}" for n in range(3)
    ]
