"""Idempotent form posts (shared by every app's phone pages).

Every phone form carries a hidden ``idempotency_key`` (``{% idempotency_field %}``
from ``grids_idempotency``, a fresh UUID per rendered form; the drafts script keeps
it, so a resend after a lost connection sends the same key). A view runs the
work through ``with_idempotency(request, scope, run)``:

- first time: the key is recorded and ``run()`` is called in the same
  transaction; ``run`` returns the URL to go to, which is stored as the outcome;
- same key again with the same fields: nothing runs, the answer is a redirect
  to the first outcome;
- same key with different fields: ``Conflict``.

The API's ``Idempotency-Key`` header (``grids.api.idempotency``) runs through
the same ``run_once``, keeping the first response instead of a URL.

Two requests with the same key at the same moment: the second one's INSERT waits
on the unique index until the first commits, then inserts nothing and replays
the first outcome. If ``run`` raises, the key is rolled back with the work, so the form can
be corrected and sent again with the same key.
"""

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import router, transaction
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import Conflict, DomainError
from .models import IdempotencyKey
from .prepared import insert_row, update_fields

FIELD = "idempotency_key"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9-]{8,64}$")
# Fields that are not part of what the user asked for.
IGNORED_FIELDS = {"csrfmiddlewaretoken", FIELD}


def key_from(request) -> str:
    """The request's idempotency key ("" if none); a malformed one is refused."""
    key = (request.POST.get(FIELD) or "").strip()
    if key and not KEY_PATTERN.match(key):
        raise DomainError(_("The form's request key is malformed."), code="bad_key")
    return key


def fingerprint(request) -> str:
    """A hash of the posted fields and of the uploaded files' names and sizes."""
    digest = hashlib.sha256()
    for name in sorted(request.POST):
        if name in IGNORED_FIELDS:
            continue
        for value in request.POST.getlist(name):
            digest.update(f"{name}={value}\x00".encode())
    for name in sorted(request.FILES):
        for upload in request.FILES.getlist(name):
            digest.update(f"{name}:file:{upload.name}:{upload.size}\x00".encode())
    return digest.hexdigest()


def _user_of(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _lookup(*, scope: str, user, key: str):
    return IdempotencyKey.objects.filter(scope=scope, user=user, key=key).first()


def _insert_key(*, scope: str, user, key: str, fingerprint: str):
    """Record the key: the new row, or None when the key is there already.

    One ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (PostgreSQL, SQLite;
    ``grids.prepared.insert_row`` with ``ignore_conflicts``):
    a key already there is no error, so no savepoint is needed around it (two
    round trips fewer than catching the unique index's IntegrityError). A key
    being recorded by another request at this moment makes the INSERT wait for
    that request's transaction: committed, it is "there already"; rolled back,
    this one is recorded.
    """
    record = IdempotencyKey(user=user, scope=scope, key=key, fingerprint=fingerprint)
    written = insert_row(
        record, using=router.db_for_write(IdempotencyKey), ignore_conflicts=True
    )
    return record if written else None


def run_once(
    *,
    scope: str,
    user,
    key: str,
    fingerprint: str,
    run: Callable[[], tuple[object, dict | None]],
    conflict_message,
):
    """The one rule of idempotent work, for forms and for the API: ``run`` is
    called at most once per (scope, user, key) and its outcome kept.

    ``run()`` does the work and returns ``(result, outcome)``: ``outcome`` is a
    dict of the key's outcome fields (``outcome_url``, ``response_status``,
    ``response_body``) to keep, or None when nothing should be kept (the key is
    then rolled back with the work). Returns ``(result, record, replayed)``; on
    a replay ``result`` is None and ``record`` holds the first outcome. The same
    key with another fingerprint is a ``Conflict``.
    """
    with transaction.atomic():
        record = _insert_key(scope=scope, user=user, key=key, fingerprint=fingerprint)
        if record is None:
            # Sent before (or right now by another request, which has committed).
            first = _lookup(scope=scope, user=user, key=key)
            if first is None:  # pragma: no cover - the row was just purged
                raise Conflict(
                    _("Please send the request again."), code="idempotency_retry"
                )
            if first.fingerprint != fingerprint:
                raise Conflict(conflict_message, code="idempotency_key_reused")
            return None, first, True
        result, outcome = run()
        if outcome is None:
            # Nothing to keep: neither the key nor what ``run`` wrote.
            transaction.set_rollback(True)
            return result, record, False
        for name, value in outcome.items():
            setattr(record, name, value)
        # As record.save(update_fields=...), without compiling an UPDATE.
        update_fields(record, outcome)
    return result, record, False


def with_idempotency(
    request, scope: str, run: Callable[[], str]
) -> HttpResponseRedirect:
    """Run ``run`` once per (scope, user, key) and redirect to its outcome URL.

    ``run`` does the work (calls a service) and returns the URL to go to. Without
    a key in the request, ``run`` is simply called. A replay returns a redirect to
    the first outcome; the response carries ``replayed = True``.
    """
    key = key_from(request)
    if not key:
        response = HttpResponseRedirect(run())
        response.replayed = False
        return response

    def run_form():
        return None, {"outcome_url": str(run())[:300]}

    _result, record, replayed = run_once(
        scope=scope,
        user=_user_of(request),
        key=key,
        fingerprint=fingerprint(request),
        run=run_form,
        conflict_message=_(
            "This form was already sent with different content. Reload the "
            "page to start a new one."
        ),
    )
    response = HttpResponseRedirect(record.outcome_url)
    response.replayed = replayed
    return response


def idempotency_keys_purge(*, now=None) -> int:
    """Delete keys older than ``IDEMPOTENCY_KEY_TTL_HOURS``; the number deleted.
    Idempotent: a second run finds nothing older left."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _counts = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
