"""Checking uploaded photos by content, not by name (shared by every app).

Kept for callers that only need the check; storing goes through
``grids.photos.photo_from_upload``, which re-encodes and renames the photo.
"""

from .photos import PHOTO_FORMATS, photo_format

ALLOWED_IMAGE_FORMATS = {name: entry[0] for name, entry in PHOTO_FORMATS.items()}


def validate_image_upload(upload) -> str:
    """Check that ``upload`` really is a JPEG, PNG or WebP under the size and
    pixel caps; returns its file extension and leaves it rewound."""
    return ALLOWED_IMAGE_FORMATS[photo_format(upload)]
