"""The base of every API view: ``ApiViewMixin`` gives it the ``Idempotency-Key``
handling of POSTs. Authentication, permissions, throttles, pagination, filters
and the error format come from ``REST_FRAMEWORK`` in the settings.

``tests/governance/test_api_conventions.py`` walks every route under ``/api/`` and
checks its view is built on this mixin (or says why not, in
``idempotency_exempt``).
"""

from .idempotency import IdempotentPostMixin


class ApiViewMixin(IdempotentPostMixin):
    """Mix in first: ``class TicketViewSet(ApiViewMixin, viewsets.GenericViewSet)``."""
