"""Repair the counters that lists read: each household's active residents, then
every region's households and population (the same recount the nightly job runs)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from grids import services


class Command(BaseCommand):
    help = "Recompute the resident count of every household and the region totals."

    def handle(self, *args, **options):
        corrected = services.household_resident_counts_refresh()
        regions = services.region_counts_refresh()
        self.stdout.write(
            _(
                "%(households)d household counts corrected; %(regions)d regions "
                "recounted."
            )
            % {"households": corrected, "regions": regions}
        )
