"""``Idempotency-Key`` on every API POST: a client that retries (a lost answer,
a phone going through a tunnel, an integration's queue) sends the same key and
gets the first answer back instead of a second ticket.

- first time: the request runs in the transaction that records the key, and a
  successful answer (status < 400) is kept, status and body;
- the same key again, same method, path and body: the kept answer, with the
  header ``Idempotent-Replayed: true``; nothing runs;
- the same key with another body (or on another endpoint): 409
  ``idempotency_key_reused``;
- a refused request (a 4xx, a domain error) keeps nothing: it can be corrected
  and sent again with the same key.

Keys are per account (the token's or the session's); two requests with one key
at the same moment are serialised by the key's unique index (the second waits,
then replays). The rule itself is ``grids.idempotency.run_once``, shared with
the phone forms. Every API view gets it through ``IdempotentPostMixin``.
"""

import hashlib
import json

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from grids.errors import DomainError
from grids.idempotency import KEY_PATTERN, run_once

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
SCOPE = "api"


def key_of(request) -> str:
    """The request's key ("" if none); a malformed one is refused (400)."""
    key = (request.headers.get(HEADER) or "").strip()
    if key and not KEY_PATTERN.match(key):
        raise DomainError(
            _(
                "The Idempotency-Key header must be 8 to 64 letters, digits or "
                "hyphens (a UUID will do)."
            ),
            code="bad_idempotency_key",
        )
    return key


def _plain(value):
    if isinstance(value, UploadedFile):
        return {"file": value.name, "size": value.size}
    return str(value)


def request_fingerprint(request) -> str:
    """What the request asks for: method, path, query and the parsed body (so
    that the same JSON with its keys in another order is the same request)."""
    data = request.data
    if hasattr(data, "lists"):  # a form or multipart body: every value kept
        data = dict(data.lists())
    body = json.dumps(data, sort_keys=True, default=_plain, ensure_ascii=False)
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode() + b"\x00")
    digest.update(body.encode())
    return digest.hexdigest()


def _stored_body(response) -> object:
    """The response's data as JSON values (dates and decimals as rendered)."""
    if response.data is None:
        return None
    return json.loads(JSONRenderer().render(response.data))


def idempotent(handler):
    """Wrap a POST handler ``(request, *args, **kwargs) -> Response``."""

    def wrapped(request, *args, **kwargs):
        key = key_of(request)
        if not key:
            return handler(request, *args, **kwargs)
        user = request.user if request.user.is_authenticated else None

        def run():
            response = handler(request, *args, **kwargs)
            if response.status_code >= 400:
                return response, None
            return response, {
                "response_status": response.status_code,
                "response_body": _stored_body(response),
            }

        response, record, replayed = run_once(
            scope=SCOPE,
            user=user,
            key=key,
            fingerprint=request_fingerprint(request),
            run=run,
            conflict_message=_(
                "This Idempotency-Key was already used for another request. Use "
                "a new key for a new request."
            ),
        )
        if replayed:
            response = Response(record.response_body, status=record.response_status)
            response[REPLAYED_HEADER] = "true"
        return response

    return wrapped


class IdempotentPostMixin:
    """Every POST of the view (``create`` and each ``@action``) honours
    ``Idempotency-Key``. Mixed into ``grids.api.views.ApiViewMixin``, the base
    of every API view."""

    def initial(self, request, *args, **kwargs):
        # After authentication, permissions and throttles; before the handler is
        # looked up (DRF's dispatch), so the wrapped one is the one that runs.
        super().initial(request, *args, **kwargs)
        if request.method == "POST":
            handler = getattr(self, "post", None)
            if handler is not None:
                self.post = idempotent(handler)
