"""A paginator for big admin lists: it counts at most ``cap`` rows.

An exact ``COUNT(*)`` over a district's scope reads every row of it (the
households changelist: 250–290 ms of its ~300 ms at 618,600 households, bench
RESULTS.md), while the page itself is an index range read of 100 rows. Counting
through ``LIMIT cap + 1`` costs a bounded read whatever the scope; past the cap
the list says "more than 10,000" (templates/admin/grids/pagination.html) and
offers the first ``cap`` rows' pages; a search or a filter narrows it.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedCountPaginator(Paginator):
    cap = 10_000

    @cached_property
    def count_is_capped(self) -> bool:
        return self._counted > self.cap

    @cached_property
    def _counted(self) -> int:
        object_list = self.object_list
        if hasattr(object_list, "order_by"):
            # COUNT(*) over a subquery that stops after cap + 1 rows.
            return object_list.order_by()[: self.cap + 1].count()
        return len(object_list[: self.cap + 1])

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)


class CappedCountAdminMixin:
    """A ModelAdmin whose changelist counts at most ``CappedCountPaginator.cap``
    rows and never counts the unfiltered table a second time."""

    paginator = CappedCountPaginator
    show_full_result_count = False
