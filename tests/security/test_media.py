"""Finding 5 of issue 9: uploads and the way they are served.

Every photo is stored under a random name with the extension of the format
Pillow detects, re-encoded without EXIF (its location kept in model fields where
the record has them); it is served only through ``governance.media`` to a user
who may see the record the photo belongs to, with the detected type, ``nosniff``
and an ``X-Accel-Redirect`` for the front proxy when configured. Bombs and
oversized files are a form error; an oversized request is refused unread.
"""

import io
import re
import struct
import zlib

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.urls import resolve, reverse
from django.utils import timezone
from PIL import Image

from grids import services as grid_services
from grids.choices import PatrolKind, UserRole
from grids.errors import DomainError
from grids.models import Patrol
from partyorg import services as party_services
from partyorg.choices import WishState
from points import services as points_services
from tests.grids.factories import UserFactory
from tests.partyorg.factories import PartyMemberFactory, make_party_tree
from tests.points.factories import RuleItemFactory, resident_in
from tests.tickets.factories import new_ticket
from tickets.models import TicketPhoto

pytestmark = pytest.mark.django_db

SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = ""
    return tmp_path


def _jpeg(*, gps: bool = False, size=(8, 6), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, "green")
    exif = Image.Exif()
    if gps:
        ifd = exif.get_ifd(0x8825)
        ifd[1], ifd[2] = "N", (36.0, 40.0, 12.0)
        ifd[3], ifd[4] = "E", (117.0, 1.0, 30.0)
    if orientation:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def _polyglot() -> SimpleUploadedFile:
    """A valid JPEG with an HTML page after its end marker, named .html."""
    return SimpleUploadedFile("evil.html", _jpeg(gps=True) + SCRIPT, "text/html")


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` pixels in a few dozen bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _patrol(actor, grid, photo) -> Patrol:
    return grid_services.patrol_record(
        actor=actor, region=grid, kind=PatrolKind.PATROL, notes="巡查", photo=photo
    )


def _url(field_file) -> str:
    return field_file.url


STORED_NAME = re.compile(r"^patrols/\d{4}/\d{2}/[0-9a-f]{32}\.jpg$")


# --- storing -------------------------------------------------------------------


def test_polyglot_is_stored_as_a_reencoded_jpg_under_a_random_name(
    tree, grid_worker, _media
):
    patrol = _patrol(grid_worker, tree["grids"][0], _polyglot())
    assert STORED_NAME.match(patrol.photo.name), patrol.photo.name
    stored = (_media / patrol.photo.name).read_bytes()
    assert b"<script" not in stored
    with Image.open(_media / patrol.photo.name) as image:
        assert image.format == "JPEG"
        assert not image.getexif()  # no EXIF at all, GPS included
    # The location the phone wrote is kept in the record, not in the file.
    assert patrol.gps_latitude == pytest.approx(36.67, abs=0.01)
    assert patrol.gps_longitude == pytest.approx(117.025, abs=0.01)


def test_every_app_stores_under_a_random_name_with_the_detected_extension(
    tree, grid_worker, community_staff, street_staff, _media
):
    png_named_jpg = io.BytesIO()
    Image.new("RGBA", (4, 4), (255, 0, 0, 128)).save(png_named_jpg, "PNG")
    upload = SimpleUploadedFile("photo.jpg", png_named_jpg.getvalue(), "image/jpeg")

    ticket = new_ticket(street_staff, tree, photos=[upload])
    ticket_photo = TicketPhoto.objects.get(ticket=ticket)
    assert re.match(r"^tickets/\d{4}/\d{2}/[0-9a-f]{32}\.png$", ticket_photo.image.name)

    make_party_tree(tree)
    member = PartyMemberFactory(organisation__region=tree["grids"][0])
    wish = party_services.wish_post(
        actor=grid_worker, region=tree["grids"][0], title="助听器", beneficiary="老人"
    )
    party_services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=member)
    wish = party_services.wish_fulfil(
        actor=grid_worker, wish_id=wish.pk, note="送到", photo=_polyglot()
    )
    assert re.match(r"^wishes/\d{4}/\d{2}/[0-9a-f]{32}\.jpg$", wish.photo.name)

    award, _created = points_services.award_propose(
        actor=grid_worker,
        resident_id=resident_in(tree["grids"][0]).pk,
        rule_item_id=RuleItemFactory(points=5).pk,
        awarded_on=timezone.localdate(),
        idempotency_key="media-test",
        photo=_polyglot(),
    )
    assert re.match(r"^points/awards/\d{4}/\d{2}/[0-9a-f]{32}\.jpg$", award.photo.name)
    for name in (ticket_photo.image.name, wish.photo.name, award.photo.name):
        assert b"<script" not in (_media / name).read_bytes()


def test_ticket_photo_loses_its_exif_but_keeps_its_location(tree, street_staff):
    upload = SimpleUploadedFile("p.jpg", _jpeg(gps=True), "image/jpeg")
    photo = TicketPhoto.objects.get(
        ticket=new_ticket(street_staff, tree, photos=[upload])
    )
    assert photo.gps_latitude == pytest.approx(36.67, abs=0.01)
    with Image.open(photo.image.path) as stored:
        assert not stored.getexif()


def test_the_phone_orientation_is_applied_before_the_exif_goes(tree, grid_worker):
    # Orientation 6: the camera was turned; viewers rotate 90°. Without EXIF the
    # stored pixels must already stand upright.
    upload = SimpleUploadedFile(
        "p.jpg", _jpeg(size=(8, 6), orientation=6), "image/jpeg"
    )
    patrol = _patrol(grid_worker, tree["grids"][0], upload)
    with Image.open(patrol.photo.path) as stored:
        assert stored.size == (6, 8)


# --- refusing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height"),
    [(30000, 30000), (10000, 10000), (7000, 7000)],
    ids=["beyond-pillow-error", "pillow-warning", "beyond-our-cap"],
)
def test_decompression_bomb_is_a_domain_error(tree, grid_worker, width, height):
    bomb = SimpleUploadedFile("bomb.png", _png_header(width, height), "image/png")
    with pytest.raises(DomainError) as exc:
        _patrol(grid_worker, tree["grids"][0], bomb)
    assert exc.value.code == "photo_too_many_pixels"
    assert not Patrol.objects.exists()


def test_pixel_cap_is_a_setting(tree, grid_worker, settings):
    settings.UPLOAD_MAX_IMAGE_PIXELS = 40
    upload = SimpleUploadedFile("p.jpg", _jpeg(size=(8, 6)), "image/jpeg")
    with pytest.raises(DomainError) as exc:
        _patrol(grid_worker, tree["grids"][0], upload)
    assert exc.value.code == "photo_too_many_pixels"


def test_decompression_bomb_on_the_ticket_form_is_a_message_not_a_500(
    client, tree, street_staff
):
    client.force_login(street_staff)
    bomb = SimpleUploadedFile("bomb.png", _png_header(30000, 30000), "image/png")
    response = client.post(
        reverse("admin:tickets_ticket_add"),
        {
            "source": "patrol",
            "region": tree["grids"][0].pk,
            "description": "占道经营",
            "reporter_name": "李四",
            "reporter_phone": "13800001111",
            "photos": [bomb],
        },
        follow=True,
    )
    assert response.status_code == 200
    assert not TicketPhoto.objects.exists()
    assert "photo_too_many_pixels" not in response.content.decode()
    messages = [str(m) for m in response.context["messages"]]
    assert any("像素" in m for m in messages), messages


def test_oversized_photo_on_the_wish_page_is_a_form_error(
    client, tree, grid_worker, settings
):
    make_party_tree(tree)
    member = PartyMemberFactory(organisation__region=tree["grids"][0])
    wish = party_services.wish_post(
        actor=grid_worker, region=tree["grids"][0], title="助听器", beneficiary="老人"
    )
    party_services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=member)
    settings.UPLOAD_MAX_IMAGE_BYTES = 200
    big = SimpleUploadedFile(
        "big.jpg", _jpeg(size=(64, 64)) + b"\0" * 400, "image/jpeg"
    )
    client.force_login(grid_worker)
    response = client.post(
        reverse("m:party:wish_detail", args=[wish.pk]),
        {"action": "fulfil", "note": "送到", "photo": big},
    )
    assert response.status_code == 200
    assert "照片过大" in response.content.decode()
    wish.refresh_from_db()
    assert wish.state == WishState.CLAIMED


def test_a_request_body_over_the_cap_is_refused_before_it_is_read(
    client, grid_worker, settings
):
    settings.UPLOAD_MAX_REQUEST_BYTES = 1024
    client.force_login(grid_worker)
    response = client.post(
        reverse("m:party:wish_new"),
        {"photo": SimpleUploadedFile("a.jpg", b"\0" * 4096, "image/jpeg")},
    )
    assert response.status_code == 413
    # Under the cap the same page answers as usual.
    assert client.get(reverse("m:party:wish_new")).status_code == 200


def test_upload_limits_are_set():
    from django.conf import settings

    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= settings.UPLOAD_MAX_IMAGE_BYTES
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= settings.UPLOAD_MAX_REQUEST_BYTES
    assert settings.UPLOAD_MAX_IMAGE_BYTES < settings.UPLOAD_MAX_REQUEST_BYTES
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES <= 20


# --- serving -------------------------------------------------------------------


@pytest.fixture
def patrol(tree, grid_worker):
    return _patrol(grid_worker, tree["grids"][0], _polyglot())


def test_media_is_routed_with_debug_off(settings, patrol):
    assert settings.DEBUG is False
    match = resolve(patrol.photo.url)
    assert match.func.__module__ == "governance.media"


def test_polyglot_is_served_as_image_jpeg_with_nosniff(
    client, patrol, community_staff, django_assert_max_num_queries
):
    client.force_login(community_staff)
    with django_assert_max_num_queries(4):  # session, user, region, the record
        response = client.get(patrol.photo.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == (
        f'inline; filename="{patrol.photo.name.rsplit("/", 1)[1]}"'
    )
    assert "private" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xff\xd8") and b"<script" not in body


def test_anonymous_is_sent_to_the_login_page(client, patrol):
    response = client.get(patrol.photo.url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_another_area_gets_404(client, patrol, tree, other_tree):
    neighbour = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1]
    )
    far = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    for user in (neighbour, far):
        client.force_login(user)
        assert client.get(patrol.photo.url).status_code == 404


def test_a_file_no_record_names_is_404_even_for_a_superuser(client, admin_user, _media):
    (_media / "patrols").mkdir()
    (_media / "patrols" / "orphan.jpg").write_bytes(_jpeg())
    client.force_login(admin_user)
    assert client.get("/media/patrols/orphan.jpg").status_code == 404
    assert client.get("/media/../etc/passwd").status_code == 404


def test_every_role_that_sees_the_record_gets_the_photo(
    client, patrol, grid_worker, community_staff, street_staff, supervisor, admin_user
):
    for user in (grid_worker, community_staff, street_staff, supervisor, admin_user):
        client.force_login(user)
        assert client.get(patrol.photo.url).status_code == 200, user.role


def test_ticket_wish_and_award_photos_follow_their_record(
    client, tree, grid_worker, street_staff
):
    ticket = new_ticket(
        street_staff, tree, photos=[SimpleUploadedFile("a.jpg", _jpeg(), "image/jpeg")]
    )
    award, _created = points_services.award_propose(
        actor=grid_worker,
        resident_id=resident_in(tree["grids"][0]).pk,
        rule_item_id=RuleItemFactory(points=5).pk,
        awarded_on=timezone.localdate(),
        idempotency_key="media-serve",
        photo=SimpleUploadedFile("a.jpg", _jpeg(), "image/jpeg"),
    )
    outsider = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])
    for url in (ticket.photos.get().image.url, award.photo.url):
        client.force_login(street_staff)
        assert client.get(url).status_code == 200, url
        client.force_login(outsider)
        assert client.get(url).status_code == 404, url


def test_legacy_file_with_an_html_name_is_served_as_what_it_is(
    client, tree, grid_worker, community_staff, _media
):
    """A photo stored before this change under the client's name and extension."""
    patrol = _patrol(grid_worker, tree["grids"][0], None)
    (_media / "patrols").mkdir(exist_ok=True)
    (_media / "patrols" / "old.html").write_bytes(_jpeg() + SCRIPT)
    (_media / "patrols" / "note.html").write_bytes(SCRIPT)
    client.force_login(community_staff)
    Patrol.objects.filter(pk=patrol.pk).update(photo="patrols/old.html")
    response = client.get("/media/patrols/old.html")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    Patrol.objects.filter(pk=patrol.pk).update(photo="patrols/note.html")
    assert client.get("/media/patrols/note.html").status_code == 404


def test_x_accel_redirect_hands_the_file_to_the_proxy(
    client, patrol, community_staff, settings
):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    client.force_login(community_staff)
    response = client.get(patrol.photo.url)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{patrol.photo.name}"
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == b""


def test_every_file_field_is_served_by_the_media_view():
    """A new FileField or ImageField must say who may read its files."""
    from governance.media import PHOTO_SOURCES

    fields = {
        (model._meta.label, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    }
    covered = {(source.model._meta.label, source.field) for source in PHOTO_SOURCES}
    assert fields == covered


def test_a_content_file_without_extension_is_named_by_its_format(tree, grid_worker):
    raw = ContentFile(_jpeg(), name="upload")
    patrol = _patrol(grid_worker, tree["grids"][0], raw)
    assert STORED_NAME.match(patrol.photo.name)


def test_compose_puts_nginx_in_front_with_the_same_prefix_and_body_cap(settings):
    import yaml

    from tests.processes import ROOT

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    prefix = services["web"]["environment"]["MEDIA_ACCEL_REDIRECT_PREFIX"]
    assert "ports" not in services["web"]  # reached through the proxy only
    proxy = services["proxy"]
    assert "media:/data/media:ro" in proxy["volumes"]
    assert any(v.startswith("./deploy/nginx.conf:") for v in proxy["volumes"])
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    location = conf.split(f"location {prefix} {{", 1)[1].split("\n    }", 1)[0]
    assert "internal;" in location
    assert f"alias {services['web']['environment']['MEDIA_ROOT']}/;" in location
    assert "nosniff" in location
    megabytes = settings.UPLOAD_MAX_REQUEST_BYTES // (1024 * 1024)
    assert f"client_max_body_size {megabytes}m;" in conf


def test_the_wish_page_shows_its_photo_to_who_sees_the_wish_only(
    client, tree, grid_worker
):
    make_party_tree(tree)
    member = PartyMemberFactory(organisation__region=tree["grids"][0])
    wish = party_services.wish_post(
        actor=grid_worker, region=tree["grids"][0], title="助听器", beneficiary="老人"
    )
    party_services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=member)
    wish = party_services.wish_fulfil(
        actor=grid_worker, wish_id=wish.pk, note="送到", photo=_polyglot()
    )
    client.force_login(grid_worker)
    page = client.get(reverse("m:party:wish_detail", args=[wish.pk])).content.decode()
    src = re.search(r'<img src="([^"]+)"', page).group(1)
    assert src == wish.photo.url
    response = client.get(src)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    elsewhere = UserFactory(
        role=UserRole.GRID_WORKER, region=tree["grids"][2], is_staff=False
    )
    client.force_login(elsewhere)
    assert client.get(src).status_code == 404


@pytest.mark.parametrize(
    ("image_format", "mode"),
    [
        ("JPEG", "RGB"),
        ("JPEG", "CMYK"),
        ("JPEG", "L"),
        ("PNG", "P"),
        ("PNG", "LA"),
        ("PNG", "I;16"),
        ("WEBP", "RGBA"),
    ],
)
def test_every_accepted_format_and_mode_is_written_again(image_format, mode):
    from grids.photos import photo_from_upload

    image = Image.new(mode, (5, 4))
    if mode == "P":
        image.info["transparency"] = 0
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    photo = photo_from_upload(SimpleUploadedFile("x", buffer.getvalue()))
    with Image.open(io.BytesIO(photo.content.read())) as stored:
        assert (stored.format, stored.size) == (image_format, (5, 4))
    assert photo.content.name.endswith("." + photo.extension)


def test_a_truncated_photo_is_refused():
    from grids.photos import photo_from_upload

    noisy = Image.effect_noise((64, 64), 50).convert("RGB")
    buffer = io.BytesIO()
    noisy.save(buffer, "JPEG")
    with pytest.raises(DomainError) as exc:
        photo_from_upload(SimpleUploadedFile("x.jpg", buffer.getvalue()[:600]))
    assert exc.value.code == "photo_type"
