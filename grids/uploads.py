"""Checking uploaded photos by content, not by name (shared by every app)."""

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from .errors import DomainError

ALLOWED_IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def validate_image_upload(upload) -> str:
    """Check that ``upload`` really is a JPEG, PNG or WebP under the size cap.

    Returns the image format's file extension. The file is left rewound and
    untouched, so EXIF (GPS included) is kept as the phone wrote it.
    """
    max_bytes = settings.UPLOAD_MAX_IMAGE_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise DomainError(
            _("The photo is too large (%(size)d MB at most).")
            % {"size": max_bytes // (1024 * 1024)},
            code="photo_too_large",
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise DomainError(
            _("The file is not a JPEG, PNG or WebP photo."), code="photo_type"
        ) from None
    finally:
        upload.seek(0)
    if image_format not in ALLOWED_IMAGE_FORMATS:
        raise DomainError(
            _("The file is not a JPEG, PNG or WebP photo."), code="photo_type"
        )
    return ALLOWED_IMAGE_FORMATS[image_format]
