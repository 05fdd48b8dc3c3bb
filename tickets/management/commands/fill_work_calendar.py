"""Fill years of the working calendar from chinese-calendar, or pre-fill a year it
does not know yet from the statutory holidays (unconfirmed, for staff to finish)."""

from django.core.management.base import BaseCommand, CommandError

from grids.errors import DomainError
from tickets import services


class Command(BaseCommand):
    help = "Fill the working calendar (工作日历) for the given years."

    def add_arguments(self, parser):
        parser.add_argument("years", nargs="+", type=int)
        parser.add_argument(
            "--prefill",
            action="store_true",
            help="for a year chinese-calendar does not know: pre-fill from holidays",
        )

    def handle(self, *args, years, prefill, **options):
        for year in years:
            try:
                if prefill:
                    count = services.work_calendar_prefill_year(year=year, actor=None)
                    self.stdout.write(f"{year}: {count} days pre-filled (unconfirmed)")
                else:
                    count = services.work_calendar_fill_year(year=year)
                    self.stdout.write(f"{year}: {count} days filled and confirmed")
            except DomainError as exc:
                raise CommandError(exc.message) from None
