"""Re-encoding the photos stored before the media hardening.

Photos uploaded before ``grids.photos`` existed were stored as the client sent
them: under the client's file name, with their EXIF block (GPS included) and
anything appended after the image (a polyglot). ``photos_reencode_legacy`` runs
each such stored file through the same pipeline as a new upload
(``photo_from_upload``: checked by content, re-encoded without metadata, saved
under ``<uuid>.<extension>``) and points the record at the new file.

It walks every ``ImageField`` of every installed model, in chunks of primary
keys, so it holds neither the whole table nor a long transaction. It is
idempotent: a file already under a random name (``<32 hex>.<jpg|png|webp>``) is
what the pipeline writes and is left alone, so a second run changes nothing. The
record is switched with an UPDATE that repeats the old name, so a photo replaced
meanwhile is not overwritten (the new copy is then removed). A stored file that
is not a photo we accept is reported and left for staff to look at.
"""

import logging
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import models

from ..errors import DomainError
from ..photos import photo_from_upload

logger = logging.getLogger(__name__)

# What photo_from_upload names a file: 32 hex digits and a photo extension.
REENCODED_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")


def is_reencoded_name(name: str) -> bool:
    return bool(REENCODED_NAME.match(posixpath.basename(name)))


def photo_fields() -> list[tuple[type[models.Model], str]]:
    """(model, field name) for every ImageField of every installed model."""
    return [
        (model, f.name)
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if isinstance(f, models.ImageField)
    ]


@dataclass
class ReencodeReport:
    """What a pass did, per ``app_label.Model.field`` and outcome."""

    counts: Counter = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)  # "label pk name: reason"
    missing: list[str] = field(default_factory=list)

    def add(self, label: str, outcome: str) -> None:
        self.counts[(label, outcome)] += 1


def reencode_stored_photo(name: str, *, storage=default_storage) -> str:
    """Re-encode the stored file ``name`` and save it beside the old one under a
    random name; return the new name. Raises DomainError if it is not a photo
    we accept. The old file is left to the caller."""
    with storage.open(name, "rb") as stored:
        photo = photo_from_upload(stored)
    return storage.save(
        posixpath.join(posixpath.dirname(name), photo.content.name), photo.content
    )


def photos_reencode_legacy(
    *,
    dry_run: bool = False,
    chunk_size: int = 200,
    keep_originals: bool = False,
    storage=default_storage,
) -> ReencodeReport:
    """Re-encode every stored photo not yet under a random name (module
    docstring). ``dry_run`` only counts; ``keep_originals`` leaves the old files
    on disk (by default they are deleted once the record points at the new
    one)."""
    report = ReencodeReport()
    for model, field_name in photo_fields():
        label = f"{model._meta.label}.{field_name}"
        rows = model._base_manager.exclude(**{field_name: ""}).exclude(
            **{f"{field_name}__isnull": True}
        )
        last_pk = None
        while True:
            chunk = rows.order_by("pk")
            if last_pk is not None:
                chunk = chunk.filter(pk__gt=last_pk)
            chunk = list(chunk.values_list("pk", field_name)[:chunk_size])
            if not chunk:
                break
            last_pk = chunk[-1][0]
            for pk, name in chunk:
                outcome = _reencode_one(
                    model, field_name, pk, name, dry_run, keep_originals, storage
                )
                report.add(label, outcome)
                if outcome == "refused":
                    report.refused.append(f"{label} {pk} {name}")
                elif outcome == "missing":
                    report.missing.append(f"{label} {pk} {name}")
    return report


def _reencode_one(model, field_name, pk, name, dry_run, keep_originals, storage):
    if is_reencoded_name(name):
        return "already"
    if not storage.exists(name):
        return "missing"
    if dry_run:
        return "to_reencode"
    try:
        new_name = reencode_stored_photo(name, storage=storage)
    except DomainError as exc:
        logger.warning("not re-encoded: %s %s %s: %s", model._meta.label, pk, name, exc)
        return "refused"
    switched = model._base_manager.filter(pk=pk, **{field_name: name}).update(
        **{field_name: new_name}
    )
    if not switched:  # replaced or deleted meanwhile: keep what is there
        storage.delete(new_name)
        return "changed_meanwhile"
    if not keep_originals:
        storage.delete(name)
    return "reencoded"
