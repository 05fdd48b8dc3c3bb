"""Open311 reads: the service list from the category catalogue, and the public
requests — only tickets posted through Open311 (``Open311Request``), within a
bounded window and count, each page a fixed number of queries."""

import datetime as dt
import uuid

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from grids.errors import DomainError

from ..choices import OPEN_STAGES, Action
from ..models import Category, TicketEvent
from .models import Open311Request

STATUSES = ("open", "closed")


def window_days() -> int:
    """The spec's default window and the longest one asked for: 90 days."""
    return getattr(settings, "OPEN311_WINDOW_DAYS", 90)


def max_requests() -> int:
    """At most this many requests in one answer (the spec's example: 1000)."""
    return getattr(settings, "OPEN311_MAX_REQUESTS", 1000)


def open311_services() -> list[tuple[Category, str]]:
    """Every active category with the name of its top-level group, in catalogue
    order; one query (the catalogue is small)."""
    categories = list(Category.objects.order_by("tree_id", "lft"))
    roots = {c.tree_id: c.name for c in categories if c.parent_id is None}
    return [(c, roots.get(c.tree_id, "")) for c in categories if c.is_active]


def open311_service(*, service_code: str) -> Category | None:
    return Category.objects.filter(service_code=service_code, is_active=True).first()


def _requests():
    """With ``media_url``: the one the client posted, kept in the ticket's first
    event (a subquery, so a page is still one query)."""
    media_url = (
        TicketEvent.objects.filter(ticket=OuterRef("ticket"), action=Action.CREATE)
        .order_by("at", "pk")
        .values(url=KT("data__media_url"))[:1]
    )
    return Open311Request.objects.select_related(
        "ticket__category",
        "ticket__region",
        "ticket__handling_region",
        "ticket__handling_department",
        "ticket__holder_region",
        "ticket__merged_into",
    ).annotate(media_url=Subquery(media_url))


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()][:100]


def _parse_date(value: str | None, name: str):
    if not value:
        return None
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise DomainError(
            _("%(name)s is not a w3 date and time (2010-01-01T00:00:00Z).")
            % {"name": name},
            code="invalid_date",
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def request_window(start_date: str | None, end_date: str | None):
    """The requested window (``start_date``, ``end_date``), by default the last
    90 days; one longer than that, or ending before it starts, is refused."""
    start = _parse_date(start_date, "start_date")
    end = _parse_date(end_date, "end_date")
    span = dt.timedelta(days=window_days())
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - span
    if end is None:
        end = start + span
    if end < start:
        raise DomainError(_("end_date is before start_date."), code="invalid_date")
    if end - start > span:
        raise DomainError(
            _("The dates may not span more than %(days)d days.")
            % {"days": window_days()},
            code="invalid_date",
        )
    return start, end


def open311_requests(
    *,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> list[Open311Request]:
    """The public requests matching the spec's filters: ``service_request_id``
    (comma-separated, overrides every other filter), else ``service_code`` and
    ``status`` (comma-separated) within the date window; newest first, at most
    ``max_requests()``. One query."""
    requests = _requests()
    ids = _split(service_request_id)
    if ids:
        return list(requests.filter(ticket__number__in=ids)[: max_requests()])
    start, end = request_window(start_date, end_date)
    requests = requests.filter(requested_at__gte=start, requested_at__lte=end)
    codes = _split(service_code)
    if codes:
        requests = requests.filter(ticket__category__service_code__in=codes)
    statuses = set(_split(status))
    if statuses - set(STATUSES):
        raise DomainError(
            _("status is open or closed (or both, comma-separated)."),
            code="invalid_status",
        )
    if statuses == {"open"}:
        requests = requests.filter(ticket__stage__in=sorted(OPEN_STAGES))
    elif statuses == {"closed"}:
        requests = requests.exclude(ticket__stage__in=sorted(OPEN_STAGES))
    return list(requests.order_by("-requested_at", "-pk")[: max_requests()])


def open311_request(*, service_request_id: str) -> Open311Request | None:
    return _requests().filter(ticket__number=service_request_id).first()


def open311_request_by_token(*, token: str) -> Open311Request | None:
    try:
        value = uuid.UUID(str(token))
    except ValueError:
        return None
    return Open311Request.objects.select_related("ticket").filter(token=value).first()
