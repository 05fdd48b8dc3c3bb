"""Admin actions that survive a tampered selection.

Django's admin filters the selected rows with ``pk__in=<posted values>``: a
non-numeric value (``_selected_action=abc``, an empty one, a NUL byte) raises in
the query and the page answers 500. ``SafeActionSelectionMixin`` checks the
posted ids against the primary key first and answers with a message instead.
"""

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext


class SafeActionSelectionMixin:
    def response_action(self, request, queryset):
        pk = self.model._meta.pk
        for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
            try:
                if pk.to_python(value) is None or "\x00" in str(value):
                    raise ValidationError("empty")
            except ValidationError:
                self.message_user(
                    request,
                    gettext("The selection was not valid. No items have been changed."),
                    level=messages.ERROR,
                )
                return None
        return super().response_action(request, queryset)
