"""Signed links: a resident's points statement (no account needed, bound to the
resident, valid for a limited time) and a community's rankings for public
display (公示: a notice board or a QR code; bound to the community)."""

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


RANKINGS_SALT = "points.rankings"


def _rankings_signer() -> signing.Signer:
    return signing.Signer(salt=RANKINGS_SALT)


def rankings_signature(community) -> str:
    """The signature that opens ``community``'s rankings (a Region or its id).

    It does not expire: a printed notice keeps working. Rotating ``SECRET_KEY``
    (without keeping the old one in ``SECRET_KEY_FALLBACKS``) withdraws all links.
    """
    community_id = getattr(community, "pk", community)
    return _rankings_signer().signature(str(community_id))


def rankings_url(community) -> str:
    community_id = getattr(community, "pk", community)
    return reverse(
        "points:rankings_public",
        kwargs={
            "community_id": community_id,
            "signature": rankings_signature(community_id),
        },
    )


def rankings_signature_valid(community_id: int, signature: str) -> bool:
    """True if ``signature`` was made for this community; False if forged, altered
    or made for another one."""
    signer = _rankings_signer()
    try:
        value = signer.unsign(f"{community_id}{signer.sep}{signature}")
    except signing.BadSignature:
        return False
    return value == str(community_id)
