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

Two requests with the same key at the same moment: the second one's INSERT waits
on the unique index until the first commits, then fails and replays the first
outcome. If ``run`` raises, the key is rolled back with the work, so the form can
be corrected and sent again with the same key.
"""

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import Conflict, DomainError
from .models import IdempotencyKey

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


def _replay(record, print_: str) -> HttpResponseRedirect:
    if record.fingerprint != print_:
        raise Conflict(
            _(
                "This form was already sent with different content. Reload the "
                "page to start a new one."
            ),
            code="idempotency_key_reused",
        )
    return HttpResponseRedirect(record.outcome_url)


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
    user = _user_of(request)
    print_ = fingerprint(request)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    scope=scope, user=user, key=key, fingerprint=print_
                )
        except IntegrityError:
            # Sent before (or right now by another request, which has committed).
            record = _lookup(scope=scope, user=user, key=key)
            if record is None:  # pragma: no cover - the row was just purged
                raise Conflict(
                    _("Please send the form again."), code="idempotency_retry"
                ) from None
            response = _replay(record, print_)
            response.replayed = True
            return response
        outcome_url = run()
        record.outcome_url = str(outcome_url)[:300]
        record.save(update_fields=["outcome_url"])
    response = HttpResponseRedirect(record.outcome_url)
    response.replayed = False
    return response


def idempotency_keys_purge(*, now=None) -> int:
    """Delete keys older than ``IDEMPOTENCY_KEY_TTL_HOURS``; the number deleted.
    Idempotent: a second run finds nothing older left."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _counts = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
