"""``manage.py reencode_photos [--dry-run]``: put the photos stored before the
media hardening through the upload pipeline (``grids.services.photos``)."""

from django.core.management.base import BaseCommand

from grids.services import photos_reencode_legacy


class Command(BaseCommand):
    help = (
        "Re-encode every stored photo not yet under a random name (checked by "
        "content, without EXIF/GPS or appended data); idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would change."
        )
        parser.add_argument("--chunk-size", type=int, default=200)
        parser.add_argument(
            "--keep-originals",
            action="store_true",
            help="Leave the old files on disk (default: delete them).",
        )

    def handle(self, *args, dry_run, chunk_size, keep_originals, **options):
        report = photos_reencode_legacy(
            dry_run=dry_run,
            chunk_size=max(1, chunk_size),
            keep_originals=keep_originals,
        )
        for (label, outcome), count in sorted(report.counts.items()):
            self.stdout.write(f"{label}: {outcome} {count}")
        for line in report.refused:
            self.stdout.write(f"not a photo, left as it is: {line}")
        for line in report.missing:
            self.stdout.write(f"file missing: {line}")
        if not report.counts:
            self.stdout.write("no stored photos")
