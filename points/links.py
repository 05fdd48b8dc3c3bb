"""Signed links to a resident's points statement: no account needed, bound to
the resident, valid for a limited time."""

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse

STATEMENT_SALT = "points.statement"
DEFAULT_MAX_AGE = dt.timedelta(days=90)


def statement_max_age() -> dt.timedelta:
    return getattr(settings, "POINTS_STATEMENT_LINK_MAX_AGE", DEFAULT_MAX_AGE)


def statement_token(resident) -> str:
    """A token for ``resident`` (a Resident or its id)."""
    resident_id = getattr(resident, "pk", resident)
    return signing.dumps({"resident": resident_id}, salt=STATEMENT_SALT, compress=True)


def statement_url(resident) -> str:
    return reverse("points:statement", kwargs={"token": statement_token(resident)})


def resident_id_from_token(token: str) -> int | None:
    """The resident the token was made for; None if forged, altered or expired."""
    try:
        data = signing.loads(token, salt=STATEMENT_SALT, max_age=statement_max_age())
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    resident_id = data.get("resident") if isinstance(data, dict) else None
    return resident_id if isinstance(resident_id, int) else None
