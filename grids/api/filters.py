"""The django-filter backend of the API: the shared FilterSets (``tickets.filters``,
``grids.filters``) take the acting user (``actor=``) so that their choices and
conditions stay inside the caller's area. A malformed filter value is a 400
``invalid`` naming the parameter, never an unfiltered list."""

import inspect

from django_filters.rest_framework import DjangoFilterBackend


class ActorFilterBackend(DjangoFilterBackend):
    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        filterset_class = self.get_filterset_class(view, queryset)
        if "actor" in inspect.signature(filterset_class.__init__).parameters:
            kwargs["actor"] = request.user
        return kwargs
