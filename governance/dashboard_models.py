"""The dashboard's monthly summary table: one row per Region node and calendar
month holding the indicator counts of ``governance.indicators`` for that node's
subtree, and its tickets received in the month by category and by stage.

Derived data only: written by ``governance.dashboard.indicator_months_refresh``
(the hourly job and the monthly rating task), never edited, and equal to a
recomputation from the raw rows at the time of ``computed_at``
(tests/governance/test_dashboard_summaries.py). The dashboard reads these rows
instead of scanning two million tickets for each of twelve months."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.models import Region


class IndicatorMonth(models.Model):
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    month = models.DateField(_("month"))
    # The counts of indicators.TICKET_COUNTS and indicators.OTHER_COUNTS (and
    # service_hours), as indicators_for_nodes returns them; rates are derived
    # on read with indicators.add_rates, never stored.
    counts = models.JSONField(_("counts"), default=dict)
    # Tickets received in the month (merged duplicates left out) by category
    # id ("" for none): {"12": 40, …}.
    by_category = models.JSONField(_("by category"), default=dict)
    # Tickets received in the month by their stage at computed_at (merged
    # duplicates included, as "merged").
    by_stage = models.JSONField(_("by stage"), default=dict)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("monthly indicator summary")
        verbose_name_plural = _("monthly indicator summaries")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "month"], name="indicatormonth_region_month"
            )
        ]

    def __str__(self):
        return f"{self.region_id} {self.month:%Y-%m}"
