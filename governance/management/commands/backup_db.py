"""``manage.py backup_db``: dump the database and write its manifest (see
``governance.backups``)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance import backups


class Command(BaseCommand):
    help = (
        "Dump the database (pg_dump -Fc on PostgreSQL, the backup API on SQLite) "
        "with a manifest of row counts and the points ledger checksum beside it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            help="Where to write the dump (default: var/backups/gridwork-<time>).",
        )

    def handle(self, *args, output=None, **options):
        output = output or backups.default_backup_path()
        try:
            manifest = backups.backup(output)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        ledger = manifest["points_ledger"]
        self.stdout.write(
            f"{output} ({manifest['size']} bytes, {len(manifest['tables'])} tables, "
            f"{sum(manifest['tables'].values())} rows; points ledger "
            f"{ledger['rows']} rows, md5 {ledger['md5']})"
        )
        self.stdout.write(f"manifest: {backups.manifest_path(output)}")
