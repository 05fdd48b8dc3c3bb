"""Request rates for the API, counted in the shared cache (Redis in production,
so every server process counts together; ``CACHES``).

- ``TokenRateThrottle`` (scope ``user``): each API token on its own, else
  each signed-in account;
- ``TokenWriteRateThrottle`` (scope ``write``): the same, for POST, PUT, PATCH
  and DELETE only — writes cost more than reads;
- ``AnonRateThrottle`` (scope ``anon``, DRF's): by client address.

The rates are settings (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``, from the
environment: ``API_THROTTLE_USER``, ``API_THROTTLE_WRITE``, ``API_THROTTLE_ANON``),
read when a request comes, so a changed setting holds at once. A refused
request is a 429 ``throttled`` with ``extra.retry_after`` in seconds.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from grids.models import ApiToken


class _LiveRateMixin:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class TokenRateThrottle(_LiveRateMixin, SimpleRateThrottle):
    scope = "user"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None  # AnonRateThrottle counts these
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenWriteRateThrottle(TokenRateThrottle):
    scope = "write"

    def allow_request(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)


class AnonRateThrottle(_LiveRateMixin, AnonRateThrottle):
    scope = "anon"
