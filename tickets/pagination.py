"""Counts that do not scan the world: a list of tickets says how many rows it
has up to a cap ("1,000+" beyond it), read with ``COUNT(*)`` over at most
``cap + 1`` rows, so a district's two million tickets cost what a thousand do.
Nobody pages to the 21st page of a list of fifty; they filter it."""

from dataclasses import dataclass
from functools import cached_property

from django.core.paginator import Paginator
from django.utils.formats import number_format
from django.utils.translation import gettext as _

COUNT_CAP = 1000


@dataclass(frozen=True)
class CappedCount:
    value: int  # at most ``cap``
    capped: bool  # there are more than ``cap``

    def __str__(self):
        shown = number_format(self.value, force_grouping=True)
        if self.capped:
            return _("%(count)s+") % {"count": shown}
        return shown


def capped_count(queryset, cap: int = COUNT_CAP) -> CappedCount:
    """How many rows ``queryset`` has, counting no further than ``cap + 1``
    (one ``SELECT COUNT(*) FROM (… LIMIT cap + 1)``)."""
    found = queryset.order_by()[: cap + 1].count()
    return CappedCount(min(found, cap), found > cap)


class CappedPaginator(Paginator):
    """A paginator whose count stops at ``cap`` (see ``capped_count``); its
    pages stop there too. ``capped`` tells the page to label the count."""

    cap = COUNT_CAP

    @cached_property
    def capped_count(self) -> CappedCount:
        return capped_count(self.object_list, self.cap)

    @cached_property
    def count(self):
        return self.capped_count.value

    @property
    def capped(self) -> bool:
        return self.capped_count.capped
