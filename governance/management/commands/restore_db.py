"""``manage.py restore_db PATH --yes [--clean]``: load a dump made by
``backup_db`` into the configured database and check it against its manifest
(see ``governance.backups``)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from governance import backups


class Command(BaseCommand):
    help = (
        "Restore a backup_db dump into the configured database, then compare row "
        "counts and the points ledger checksum with the dump's manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The dump file.")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Confirm: the configured database is overwritten.",
        )
        parser.add_argument(
            "--clean",
            action="store_true",
            help="Replace what a non-empty database holds (drop, then restore).",
        )

    def handle(self, *args, path, yes=False, clean=False, **options):
        if not yes:
            raise CommandError(
                _(
                    "Restoring overwrites the configured database: run again with "
                    "--yes to confirm (and --clean if it is not empty)."
                )
            )
        try:
            result = backups.restore(path, clean=clean)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        if not result.ok:
            lines = [
                _("  %(name)s: expected %(expected)s, found %(found)s")
                % {"name": name, "expected": expected, "found": found}
                for name, (expected, found) in sorted(result.mismatches.items())
            ]
            raise CommandError(
                _("The restored database differs from the manifest:")
                + "\n"
                + "\n".join(lines)
            )
        self.stdout.write(
            f"restored {path}: {result.tables} tables and the points ledger match "
            "the manifest"
        )
