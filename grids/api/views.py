"""The base of every API view: ``ApiViewMixin`` gives it the ``Idempotency-Key``
handling of POSTs. Authentication, permissions, throttles, pagination, filters
and the error format come from ``REST_FRAMEWORK`` in the settings.

``service_action`` makes the usual step endpoint of a viewset (``POST
/<resource>/{id}/<step>/``): validate the body with an input serializer, call
the service that takes the step, answer the object as it is now. The services
check role, scope and state again under their locks; their refusals
(``grids.errors``) become the API's error body in ``grids.api.errors``.

``tests/governance/test_api_conventions.py`` walks every route under ``/api/`` and
checks its view is built on this mixin (or says why not, in
``idempotency_exempt``).
"""

from collections.abc import Callable

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from .idempotency import IdempotentPostMixin


class ApiViewMixin(IdempotentPostMixin):
    """Mix in first: ``class TicketViewSet(ApiViewMixin, viewsets.GenericViewSet)``.

    A viewset with ``service_action`` endpoints names the keyword its services
    take the object's id by in ``service_object_kwarg`` (``"wish_id"``)."""

    service_object_kwarg = ""


def service_action(
    name: str,
    service: Callable,
    *,
    input=None,
    prepare: Callable[[dict], dict] | None = None,
):
    """A detail ``POST`` endpoint ``name`` of an ``ApiViewMixin`` viewset:

    1. the object through the view's scoped queryset (outside the caller's
       area: 404);
    2. the body validated by ``input`` (a Serializer class; none: no body);
       ``prepare`` may turn its values into the service's (an id into a row);
    3. ``service(actor=request.user, <view.service_object_kwarg>=obj.pk,
       **values)``;
    4. the object read again through the scoped queryset, in the view's
       serializer.

    Use it as a class attribute: ``release = service_action("release",
    services.wish_release, input=WishNoteSerializer)``.
    """

    def endpoint(self, request, pk=None):
        obj = self.get_object()
        values = {}
        if input is not None:
            data = input(data=request.data, context=self.get_serializer_context())
            data.is_valid(raise_exception=True)
            values = dict(data.validated_data)
        if prepare is not None:
            values = prepare(values)
        service(actor=request.user, **{self.service_object_kwarg: obj.pk}, **values)
        return Response(self.get_serializer(self.get_object()).data)

    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__doc__ = service.__doc__
    endpoint = action(detail=True, methods=["post"], url_path=name.replace("_", "-"))(
        endpoint
    )
    # After ``action`` (which sets the function's kwargs): the body is the
    # input's, none without one.
    return extend_schema(request=input)(endpoint)
