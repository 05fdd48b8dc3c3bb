"""Re-encrypt every stored ID-card number and phone of residents under the
current key and recompute the numbers' keyed hashes (docs/operations.md, "Key rotation"). Chunked, resumable and
idempotent: ``grids.pii.reencrypt_rows``."""

from django.core.management.base import BaseCommand, CommandError

from grids.models import Resident
from grids.pii import RESIDENT_ENCRYPTED_FIELDS, UndecryptableRow, reencrypt_rows


class Command(BaseCommand):
    help = (
        "Re-encrypt personal data under the first key of PII_ENCRYPTION_KEYS and "
        "recompute the hashes under PII_HASH_KEY."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=500)

    def handle(self, *args, chunk_size, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")

        def progress(counts):
            if options["verbosity"] > 1:
                self.stdout.write(
                    f"checked {counts['checked']}, rewritten {counts['rewritten']}"
                )

        try:
            counts = reencrypt_rows(
                Resident,
                fields=RESIDENT_ENCRYPTED_FIELDS,
                chunk_size=chunk_size,
                progress=progress,
            )
        except UndecryptableRow as exc:
            raise CommandError(
                f"{exc}. Put the key it was encrypted with back into "
                "PII_ENCRYPTION_KEYS and run again."
            ) from None
        self.stdout.write(
            f"Residents: {counts['checked']} checked, "
            f"{counts['rewritten']} re-encrypted."
        )
