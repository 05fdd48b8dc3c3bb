"""``manage.py reencode_photos``: photos stored before the media hardening go
through the upload pipeline once."""

import io
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from grids.models import Patrol
from grids.services.photos import is_reencoded_name, photo_fields
from tests.grids.factories import PatrolFactory

pytestmark = pytest.mark.django_db

SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (8, 6), "green")
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (36.0, 40.0, 12.0)
    gps[3], gps[4] = "E", (117.0, 1.0, 30.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def _legacy(name: str, content: bytes) -> Patrol:
    """A patrol whose photo was stored as the client sent it (the old path)."""
    stored = default_storage.save(f"patrols/2025/01/{name}", ContentFile(content))
    patrol = PatrolFactory()
    Patrol.objects.filter(pk=patrol.pk).update(photo=stored)
    patrol.refresh_from_db()
    return patrol


def _run(*args) -> str:
    out = StringIO()
    call_command("reencode_photos", *args, stdout=out)
    return out.getvalue()


def test_every_image_field_is_covered():
    labels = {f"{m._meta.label}.{f}" for m, f in photo_fields()}
    assert {
        "grids.Patrol.photo",
        "points.Award.photo",
        "partyorg.Wish.photo",
        "tickets.TicketPhoto.image",
    } <= labels


def test_legacy_photos_are_reencoded_once_and_originals_removed(_media):
    polyglot = _legacy("evil.html", _jpeg_with_gps() + SCRIPT)
    plain = _legacy("IMG_0001.JPG", _jpeg_with_gps())
    not_a_photo = _legacy("notes.txt", b"just text")
    no_photo = PatrolFactory()
    old_names = {polyglot.photo.name, plain.photo.name}

    dry = _run("--dry-run")
    assert "grids.Patrol.photo: to_reencode 3" in dry
    polyglot.refresh_from_db()
    assert polyglot.photo.name.endswith("evil.html")  # a dry run changes nothing

    first = _run("--chunk-size", "1")
    assert "grids.Patrol.photo: reencoded 2" in first
    assert "grids.Patrol.photo: refused 1" in first and "notes.txt" in first
    for patrol in (polyglot, plain):
        patrol.refresh_from_db()
        assert is_reencoded_name(patrol.photo.name)
        assert patrol.photo.name.startswith("patrols/2025/01/")
        data = default_storage.open(patrol.photo.name).read()
        assert SCRIPT not in data
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG"
            assert not image.getexif().get_ifd(0x8825)  # no GPS left
    assert not any(default_storage.exists(name) for name in old_names)
    not_a_photo.refresh_from_db()
    assert not_a_photo.photo.name.endswith("notes.txt")  # left for staff
    no_photo.refresh_from_db()
    assert not no_photo.photo

    names = dict(Patrol.objects.values_list("pk", "photo"))
    files = sorted(p.name for p in (_media / "patrols/2025/01").iterdir())
    second = _run()
    assert "grids.Patrol.photo: already 2" in second
    assert "reencoded" not in second
    assert dict(Patrol.objects.values_list("pk", "photo")) == names
    assert sorted(p.name for p in (_media / "patrols/2025/01").iterdir()) == files


def test_keep_originals_and_a_missing_file(_media):
    kept = _legacy("IMG_0002.JPG", _jpeg_with_gps())
    old = kept.photo.name
    gone = _legacy("IMG_0003.JPG", _jpeg_with_gps())
    default_storage.delete(gone.photo.name)
    out = _run("--keep-originals")
    assert "grids.Patrol.photo: reencoded 1" in out
    assert "file missing" in out and "IMG_0003.JPG" in out
    assert default_storage.exists(old)
    kept.refresh_from_db()
    assert is_reencoded_name(kept.photo.name)
