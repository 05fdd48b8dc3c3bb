"""Personal data at rest: the ID-card number is stored encrypted, with a keyed
hash beside it for uniqueness and lookup, so that a database dump alone does not
reveal it.

- Encryption: Fernet (AES-128-CBC + HMAC-SHA256) under ``PII_ENCRYPTION_KEYS``,
  a list whose first key encrypts and every key decrypts (``MultiFernet``), so a
  new key can be put first and the old ones kept until ``pii_rotate_keys`` has
  re-encrypted every row (docs/operations.md, "Key rotation").
- Blind index: HMAC-SHA256 of the normalised number under ``PII_HASH_KEY``; the
  unique constraint and every lookup by ID number use it
  (``Resident.objects.with_id_number``).

Keys are read from the settings when used, never at import time.
"""

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast

# Every Fernet token starts with its version byte 0x80, base64: "gAAAAA".
TOKEN_PREFIX = "gAAAAA"


@lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[Fernet, MultiFernet]:
    if not keys:
        raise ImproperlyConfigured("PII_ENCRYPTION_KEYS is empty.")
    try:
        fernets = [Fernet(key.encode()) for key in keys]
    except ValueError as exc:
        raise ImproperlyConfigured(
            "PII_ENCRYPTION_KEYS: each key must be 32 url-safe base64-encoded "
            "bytes (Fernet.generate_key())."
        ) from exc
    return fernets[0], MultiFernet(fernets)


def _keys() -> tuple[str, ...]:
    return tuple(k.strip() for k in settings.PII_ENCRYPTION_KEYS if k.strip())


def encrypt(text: str) -> str:
    """``text`` encrypted under the current (first) key."""
    return _fernets(_keys())[1].encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """The text of a token encrypted under any of the configured keys; raises
    ``InvalidToken`` for one that none of them opens."""
    return _fernets(_keys())[1].decrypt(token.encode()).decode()


def is_current(token: str) -> bool:
    """Whether ``token`` is encrypted under the current key."""
    try:
        _fernets(_keys())[0].decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def blind_index(text: str) -> str:
    """The keyed hash of an ID-card number (normalised: trimmed, upper-case X),
    64 hex digits; empty for an empty number."""
    from .validators import normalize_id_number

    text = normalize_id_number(text or "")
    if not text:
        return ""
    key = settings.PII_HASH_KEY.encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


class UndecryptableRow(Exception):
    """A stored value that no configured key opens (a key removed too early)."""


def reencrypt_rows(
    model,
    *,
    field: str = "id_number",
    hash_field: str = "id_number_hash",
    chunk_size: int = 500,
    allow_plaintext: bool = False,
    progress=None,
) -> dict:
    """Rewrite every row of ``model`` whose ``field`` is not encrypted under the
    current key, or whose ``hash_field`` is not the hash under the current hash
    key: decrypt with any key, encrypt with the current one, recompute the hash.

    Chunked by primary key, each chunk in its own transaction with its rows
    locked, so a run stopped half-way is resumed by running it again (rows done
    are skipped) and a second run changes nothing. ``allow_plaintext`` (the
    migration of rows stored before encryption) encrypts a value that is not a
    token; otherwise such a value, or a token no key opens, stops the run.
    Returns the counts ``{"checked", "rewritten"}``.
    """
    counts = {"checked": 0, "rewritten": 0}
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                model._base_manager.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .annotate(_raw=Cast(field, output_field=TextField()))
                .values_list("pk", "_raw", hash_field)[:chunk_size]
            )
            if not rows:
                break
            changed = []
            for pk, raw, stored_hash in rows:
                plain = _plaintext(raw, pk=pk, allow_plaintext=allow_plaintext)
                if plain is None:
                    continue
                digest = blind_index(plain)
                if is_current(raw) and stored_hash == digest:
                    continue
                changed.append(model(pk=pk, **{field: plain, hash_field: digest}))
            if changed:
                # bulk_update sends each value through the field's encryption.
                model._base_manager.bulk_update(changed, [field, hash_field])
            counts["checked"] += len(rows)
            counts["rewritten"] += len(changed)
            last_pk = rows[-1][0]
        if progress is not None:
            progress(counts)
    return counts


def _plaintext(raw, *, pk, allow_plaintext: bool):
    if raw is None or raw == "":
        return None
    try:
        return decrypt(raw)
    except InvalidToken:
        if allow_plaintext and not raw.startswith(TOKEN_PREFIX):
            return raw
        raise UndecryptableRow(
            f"row {pk}: no key in PII_ENCRYPTION_KEYS opens the stored value"
        ) from None
