"""Prove that every account's cached balance equals the sum of its ledger."""

from django.core.management.base import BaseCommand, CommandError

from points.selectors import accounts_with_drift


class Command(BaseCommand):
    help = "Check that every points account's balance equals the sum of its ledger."

    def handle(self, *args, **options):
        drifted = list(accounts_with_drift()[:1000])
        for account in drifted:
            self.stderr.write(
                f"account {account.pk}: balance {account.balance}, "
                f"ledger {account.ledger_sum}"
            )
        if drifted:
            raise CommandError(
                f"{len(drifted)} account(s) differ from their ledger.", returncode=1
            )
        self.stdout.write(self.style.SUCCESS("Every balance equals its ledger."))
