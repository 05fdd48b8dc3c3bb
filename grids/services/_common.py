"""Pieces the grids services share."""

from django.utils.translation import gettext as _

from .. import permissions
from ..errors import DomainError


def refuse_unknown_fields(changes, allowed) -> None:
    """An update names only the fields its service may change."""
    unknown = set(changes) - set(allowed)
    if unknown:
        raise DomainError(
            _("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )


def lock_in_scope(queryset, pk, *, actor, region_of):
    """The row ``pk`` of ``queryset``, locked, if ``region_of(row)`` lies in the
    actor's area; otherwise refused as if it did not exist."""
    row = queryset.select_for_update().filter(pk=pk).first()
    permissions.require_in_scope(actor, region_of(row) if row is not None else None)
    return row


# A bulk import reports its progress every this many rows (and per chunk written).
PROGRESS_EVERY = 500


def progress_due(number: int) -> bool:
    """Whether a bulk import reports its counters before its ``number``-th row:
    after each ``PROGRESS_EVERY`` rows done."""
    return number > 1 and (number - 1) % PROGRESS_EVERY == 0


def report_progress(progress, **counters) -> None:
    """Pass a bulk import's counters so far (``checked``, ``written``,
    ``errors``: rows checked, rows written, refused rows) to the caller's
    ``progress`` callback, when there is one. The job runner shows them on the
    job's page while the import's transaction is still open."""
    if progress is not None:
        progress(**counters)
