"""Pieces the grids services share."""

from django.utils.translation import gettext as _

from ..errors import DomainError


def refuse_unknown_fields(changes, allowed) -> None:
    """An update names only the fields its service may change."""
    unknown = set(changes) - set(allowed)
    if unknown:
        raise DomainError(
            _("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
