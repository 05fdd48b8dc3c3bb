"""The signature both directions use (docs/hotline.md, "Signature").

``X-Hotline-Signature: sha256=<hex>`` where ``<hex>`` is
HMAC-SHA256(key = the platform's secret as UTF-8,
            message = ``<X-Hotline-Timestamp>`` + ``"."`` + the raw body bytes),
(for a read, which has no body, ``read_message``: ``GET <path>`` in place of
the body),
and the timestamp is Unix seconds, as decimal digits. A request whose timestamp
is more than ``HOTLINE_SIGNATURE_WINDOW_SECONDS`` (300) away from our clock, in
either direction, is refused, so a captured request cannot be replayed later.
"""

import hashlib
import hmac
import secrets
import time

from django.conf import settings

SCHEME = "sha256="
PLATFORM_HEADER = "X-Hotline-Platform"
TIMESTAMP_HEADER = "X-Hotline-Timestamp"
SIGNATURE_HEADER = "X-Hotline-Signature"
DELIVERY_HEADER = "X-Hotline-Delivery"


class BadSignature(Exception):
    """Why a signature is refused: ``reason`` is one of missing, malformed,
    old, future, mismatch."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def window_seconds() -> int:
    return int(getattr(settings, "HOTLINE_SIGNATURE_WINDOW_SECONDS", 300))


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return SCHEME + digest


def signed_headers(secret: str, platform_code: str, body: bytes, now=None) -> dict:
    """The headers of a signed request (the simulator and our callbacks)."""
    timestamp = str(int(now if now is not None else time.time()))
    return {
        PLATFORM_HEADER: platform_code,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def read_message(method: str, path: str) -> bytes:
    """What a read (a GET, no body) signs in place of the body: the method, a
    space and the URL path as requested, percent-decoded, in UTF-8 — e.g.
    ``GET /api/v1/hotline/tickets/A-1``."""
    return f"{method} {path}".encode()


def check_timestamp(timestamp: str | None, now: float | None = None) -> int:
    """The timestamp as an int, or ``BadSignature`` (missing, malformed, old,
    future). Checked before the signature: no HMAC is computed for a stale
    request."""
    if not timestamp:
        raise BadSignature("missing")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise BadSignature("malformed")
    value = int(timestamp)
    now = time.time() if now is None else now
    if value < now - window_seconds():
        raise BadSignature("old")
    if value > now + window_seconds():
        raise BadSignature("future")
    return value


def verify(secret: str, timestamp: str, body: bytes, given: str | None) -> None:
    """Refuse (``BadSignature("mismatch")``) unless ``given`` is the signature;
    compared in constant time."""
    if not given:
        raise BadSignature("missing")
    if not hmac.compare_digest(signature(secret, timestamp, body), given.strip()):
        raise BadSignature("mismatch")
