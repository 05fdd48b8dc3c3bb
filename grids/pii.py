"""Personal data at rest: a resident's ID-card number and phone are stored
encrypted, the number with a keyed hash beside it for uniqueness and lookup, so
that a database dump alone does not reveal them.

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


# The encrypted columns of a resident, each with its keyed-hash column (or None).
RESIDENT_ENCRYPTED_FIELDS = {"id_number": "id_number_hash", "phone": None}


def reencrypt_rows(
    model,
    *,
    fields: dict,
    chunk_size: int = 500,
    allow_plaintext: bool = False,
    progress=None,
) -> dict:
    """Rewrite every row of ``model`` where one of ``fields`` (encrypted column →
    its hash column or None) is not encrypted under the current key, or its hash
    is not the hash under the current hash key: decrypt with any key, encrypt
    with the current one, recompute the hash.

    Chunked by primary key, each chunk in its own transaction with its rows
    locked, so a run stopped half-way is resumed by running it again (rows done
    are skipped) and a second run changes nothing. ``allow_plaintext`` (the
    migration of rows stored before encryption) encrypts a value that is not a
    token; otherwise such a value, or a token no key opens, stops the run.
    An empty value stays empty. Returns the counts ``{"checked", "rewritten"}``.
    """
    names = list(fields)
    hashes = [h for h in fields.values() if h]
    counts = {"checked": 0, "rewritten": 0}

    def rewrite(rows):
        changed = []
        for row in rows:
            values, stale = {}, False
            for name, hash_name in fields.items():
                raw = row[f"_raw_{name}"]
                plain = _plaintext(raw, pk=row["pk"], allow_plaintext=allow_plaintext)
                values[name] = plain
                stale = stale or (bool(raw) and not is_current(raw))
                if hash_name:
                    values[hash_name] = blind_index(plain or "")
                    stale = stale or row[hash_name] != values[hash_name]
            if stale:
                changed.append((row["pk"], values))
        if changed:
            _write_rows(model, changed, [*names, *hashes])
        counts["checked"] += len(rows)
        counts["rewritten"] += len(changed)

    _each_locked_chunk(
        model,
        names,
        hashes,
        chunk_size=chunk_size,
        handle=rewrite,
        committed=(lambda: progress(counts)) if progress is not None else None,
    )
    return counts


def _each_locked_chunk(model, names, extra=(), *, chunk_size, handle, committed=None):
    """Walk ``model``'s rows in primary-key order, ``chunk_size`` at a time, each
    chunk locked in its own transaction: ``handle(rows)`` runs inside it with
    ``pk``, the stored text of each of ``names`` as ``_raw_<name>`` (below the
    fields' decryption) and the values of ``extra``; ``committed()`` after the
    chunk's commit (so a run stopped there keeps the chunks done)."""
    raw_columns = {f"_raw_{n}": Cast(n, output_field=TextField()) for n in names}
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                model._base_manager.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .annotate(**raw_columns)
                .values("pk", *raw_columns, *extra)[:chunk_size]
            )
            if not rows:
                return
            handle(rows)
            last_pk = rows[-1]["pk"]
        if committed is not None:
            committed()


def _write_rows(model, changed, names) -> None:
    """One UPDATE by primary key per row (``executemany``), each value prepared
    by its field, so the encrypted columns are encrypted by ``EncryptedCharField``
    itself (``bulk_update``'s CASE over 500 rows is slower by far on PostgreSQL)."""
    from django.db import connection

    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    pk_column = quote(model._meta.pk.column)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {pk_column} = %s"
    )
    params = [
        [f.get_db_prep_save(values[f.name], connection) for f in fields] + [pk]
        for pk, values in changed
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _plaintext(raw, *, pk, allow_plaintext: bool):
    if raw is None or raw == "":
        return raw
    try:
        return decrypt(raw)
    except InvalidToken:
        if allow_plaintext and not raw.startswith(TOKEN_PREFIX):
            return raw
        raise UndecryptableRow(
            f"row {pk}: no key in PII_ENCRYPTION_KEYS opens the stored value"
        ) from None


def decrypt_rows_in_place(model, *, fields, chunk_size: int = 500) -> None:
    """Write the plain text of ``fields`` back into their columns (a migration
    undoing encryption), chunk by chunk, with raw SQL: the columns' fields would
    encrypt any value the ORM writes."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)

    def decrypt_in_place(rows):
        with connection.cursor() as cursor:
            for row in rows:
                for name in fields:
                    raw = row[f"_raw_{name}"]
                    if raw and raw.startswith(TOKEN_PREFIX):
                        column = connection.ops.quote_name(
                            model._meta.get_field(name).column
                        )
                        cursor.execute(
                            f"UPDATE {table} SET {column} = %s WHERE id = %s",
                            [decrypt(raw), row["pk"]],
                        )

    _each_locked_chunk(
        model, list(fields), chunk_size=chunk_size, handle=decrypt_in_place
    )
