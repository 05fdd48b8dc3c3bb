"""``manage.py dashboard_refresh [--months N | --month YYYY-MM]``: write the
dashboard's monthly summary rows (governance.dashboard.indicator_months_refresh)
of the last N months (default 12, the running one included) or of one month.
Idempotent; the hourly job keeps the running and the last month fresh, this
command fills the history (after an import, or a first deployment)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from governance.dashboard import indicator_months_refresh, months_back


class Command(BaseCommand):
    help = "Write the dashboard's monthly summary rows of the last months."

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument("--month", help="one month, YYYY-MM")

    def handle(self, *args, months, month, **options):
        if month:
            try:
                chosen = [dt.date.fromisoformat(f"{month}-01")]
            except ValueError as exc:
                raise CommandError("--month takes YYYY-MM") from exc
        else:
            if not 1 <= months <= 120:
                raise CommandError("--months takes 1 to 120")
            chosen = months_back(timezone.localdate(), months)
        for first in chosen:
            rows = indicator_months_refresh(month=first)
            self.stdout.write(f"{first:%Y-%m}: {rows} rows")
