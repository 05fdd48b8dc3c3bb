"""Photos as they are stored: checked by content, re-encoded, randomly named.

Every photo any app takes (patrols, tickets, micro-wishes, points awards) comes
through ``photo_from_upload``. The client's file name, extension and bytes are
never stored: the upload is opened by Pillow under a size and a pixel cap (a
decompression bomb is a refusal, not a 500), its phone orientation applied, and
it is written again in the format Pillow detected (JPEG, PNG or WebP) without
EXIF, so without GPS, under ``<uuid>.<extension>``. What Pillow writes is only
image data, so an HTML page hidden after the image (a polyglot) is gone. The
location the phone wrote is returned for the records that keep it in fields
(ticket photos, patrols); docs/operations.md states the rule.
"""

import io
import uuid
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import DomainError

# Pillow format → (file extension, MIME type). Nothing else is accepted.
PHOTO_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
# Modes each format can be written in; anything else is converted first.
_WRITABLE_MODES = {
    "JPEG": {"L", "RGB", "CMYK"},
    "PNG": {"1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"},
    "WEBP": {"RGB", "RGBA"},
}
_GPS_IFD = 0x8825
# What Pillow raises on a file that is damaged past its header.
_BROKEN = (OSError, SyntaxError, ValueError, TypeError, KeyError, IndexError)


@dataclass(frozen=True)
class Photo:
    """A checked photo ready to be assigned to an ImageField."""

    content: ContentFile  # re-encoded bytes named <uuid>.<extension>
    extension: str
    content_type: str
    latitude: float | None = None
    longitude: float | None = None


def _not_a_photo() -> DomainError:
    return DomainError(
        _("The file is not a JPEG, PNG or WebP photo."), code="photo_type"
    )


def _too_many_pixels() -> DomainError:
    return DomainError(
        _("The photo has too many pixels (%(megapixels)s megapixels at most).")
        % {"megapixels": f"{settings.UPLOAD_MAX_IMAGE_PIXELS / 1_000_000:g}"},
        code="photo_too_many_pixels",
    )


def check_photo_size(upload) -> None:
    """Refuse a file over ``UPLOAD_MAX_IMAGE_BYTES`` before anything reads it."""
    max_bytes = settings.UPLOAD_MAX_IMAGE_BYTES
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
        upload.seek(0)
    if size > max_bytes:
        raise DomainError(
            _("The photo is too large (%(size)d MB at most).")
            % {"size": max(max_bytes // (1024 * 1024), 1)},
            code="photo_too_large",
        )


def open_photo(upload) -> Image.Image:
    """Read ``upload`` (at most the size cap) and open it, header only, checking
    its format and pixel count.

    Pillow warns (``DecompressionBombWarning``) or refuses
    (``DecompressionBombError``) past its own limits; both are our refusal, and
    our cap (``UPLOAD_MAX_IMAGE_PIXELS``) is checked on the header's size before
    a single pixel is decoded.
    """
    check_photo_size(upload)
    upload.seek(0)
    data = upload.read(settings.UPLOAD_MAX_IMAGE_BYTES + 1)
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _not_a_photo() from None
    if image.format not in PHOTO_FORMATS:
        raise _not_a_photo()
    width, height = image.size
    if width * height > settings.UPLOAD_MAX_IMAGE_PIXELS:
        raise _too_many_pixels()
    return image


def photo_format(upload) -> str:
    """The upload's Pillow format after the size, type and pixel checks."""
    with open_photo(upload) as image:
        return image.format


def _location(image: Image.Image) -> tuple[float | None, float | None]:
    """Latitude and longitude from the EXIF GPS block, if the phone wrote them."""

    def degrees(value, ref) -> float:
        d, m, s = (float(x) for x in value)
        result = d + m / 60 + s / 3600
        return -result if ref in ("S", "W") else result

    try:
        gps = image.getexif().get_ifd(_GPS_IFD)
        if gps and 2 in gps and 4 in gps:
            return degrees(gps[2], gps.get(1, "N")), degrees(gps[4], gps.get(3, "E"))
    except (*_BROKEN, ZeroDivisionError):
        pass
    return None, None


# What of the decoded image's metadata is written again: the colour profile (so
# colours do not shift) and a palette's transparency. EXIF, XMP, comments and
# text chunks are not.
_KEPT_INFO = ("icc_profile", "transparency")


def _encode(image: Image.Image, image_format: str) -> bytes:
    """Pixels only, in ``image_format``, with nothing but ``_KEPT_INFO``."""
    image.info = {k: v for k, v in image.info.items() if k in _KEPT_INFO}
    if image.mode not in _WRITABLE_MODES[image_format]:
        has_alpha = "A" in image.getbands() or "transparency" in image.info
        keep_alpha = has_alpha and image_format != "JPEG"
        image = image.convert("RGBA" if keep_alpha else "RGB")
    options = {}
    if icc := image.info.get("icc_profile"):
        options["icc_profile"] = icc
    if image_format in ("JPEG", "WEBP"):
        options["quality"] = 90
    out = io.BytesIO()
    image.save(out, format=image_format, **options)
    return out.getvalue()


def photo_from_upload(upload) -> Photo:
    """Check ``upload`` and return it re-encoded under a random name.

    Raises DomainError ``photo_too_large``, ``photo_type`` or
    ``photo_too_many_pixels``; never reads more than the size cap allows.
    """
    with open_photo(upload) as image:
        image_format = image.format
        latitude, longitude = _location(image)
        try:
            upright = ImageOps.exif_transpose(image)
            upright.load()
            data = _encode(upright, image_format)
        except _BROKEN as exc:  # truncated pixels or a malformed EXIF block
            raise _not_a_photo() from exc
    extension, content_type = PHOTO_FORMATS[image_format]
    return Photo(
        content=ContentFile(data, name=f"{uuid.uuid4().hex}.{extension}"),
        extension=extension,
        content_type=content_type,
        latitude=latitude,
        longitude=longitude,
    )


def stored_photo_type(path) -> str | None:
    """The MIME type of a stored file by its content, None if it is not a photo
    we accept (e.g. a file stored under the client's name before this module)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image_format = image.format
    except (Image.DecompressionBombError, *_BROKEN):
        return None
    entry = PHOTO_FORMATS.get(image_format)
    return entry[1] if entry else None
