"""Ticket lists count at most ``COUNT_CAP`` rows ("1,000+" beyond it), with the
shared capped paginator of ``grids.pagination``: a district's two million
tickets cost what a thousand do."""

from grids.pagination import CappedCount, CappedCountPaginator, capped_count

__all__ = ["COUNT_CAP", "CappedCount", "CappedPaginator", "capped_count"]

COUNT_CAP = 1000


class CappedPaginator(CappedCountPaginator):
    cap = COUNT_CAP
