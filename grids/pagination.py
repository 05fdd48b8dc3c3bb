"""Counts that do not scan the world: a big list says how many rows it has up
to a cap, read with ``COUNT(*)`` over at most ``cap + 1`` rows, so a district's
two million tickets or 618,600 households cost what ``cap`` rows do.

An exact ``COUNT(*)`` over a district's scope reads every row of it (the
households changelist: 250–290 ms of its ~300 ms at 618,600 households, bench
RESULTS.md), while the page itself is an index range read. Past the cap the
list says so (each app's ``admin/<app>/pagination.html``) and offers the first
``cap`` rows' pages; a search or a filter narrows it. Nobody pages to the
101st page of a list; they filter it.
"""

from dataclasses import dataclass
from functools import cached_property

from django.core.paginator import Paginator
from django.utils.formats import number_format
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class CappedCount:
    value: int  # at most the cap
    capped: bool  # there are more than the cap

    def __str__(self):
        shown = number_format(self.value, force_grouping=True)
        if self.capped:
            return _("%(count)s+") % {"count": shown}
        return shown


def capped_count(rows, cap: int) -> CappedCount:
    """How many ``rows`` (a queryset or a list) there are, counting no further
    than ``cap + 1`` (one ``SELECT COUNT(*) FROM (… LIMIT cap + 1)``)."""
    if hasattr(rows, "order_by"):
        found = rows.order_by()[: cap + 1].count()
    else:
        found = len(rows[: cap + 1])
    return CappedCount(min(found, cap), found > cap)


class CappedCountPaginator(Paginator):
    """A paginator whose count stops at ``cap`` (see ``capped_count``); its
    pages stop there too. ``capped`` tells the page to label the count."""

    cap = 10_000

    @cached_property
    def capped_count(self) -> CappedCount:
        return capped_count(self.object_list, self.cap)

    @cached_property
    def count(self) -> int:
        return self.capped_count.value

    @property
    def capped(self) -> bool:
        return self.capped_count.capped


class CappedCountAdminMixin:
    """A ModelAdmin whose changelist counts at most ``paginator.cap`` rows and
    never counts the unfiltered table a second time."""

    paginator = CappedCountPaginator
    show_full_result_count = False
