"""List pagination for the API: a cursor over a stable ordering, so that a page
costs the same whether it is the first or the ten-thousandth and rows inserted
meanwhile never shift a page (DRF's CursorPagination)."""

from rest_framework.pagination import CursorPagination


class StableCursorPagination(CursorPagination):
    """Newest first by primary key (unique, indexed); views with another
    natural order set ``ordering`` themselves."""

    ordering = "-pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
