"""Admin fixes for third-party apps the project installs."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin, PeriodicTaskForm
from django_celery_beat.models import PeriodicTask

from grids.admin_mixins import SafeActionSelectionMixin


class SafePeriodicTaskForm(PeriodicTaskForm):
    """django-celery-beat's form reads ``cleaned_data['task']`` after the field
    itself may have failed (an overlong or malformed name), which is a 500; a
    task name that did not validate is the form error it should be."""

    def clean(self):
        if not self.cleaned_data.get("task") and not self.cleaned_data.get("regtask"):
            self.cleaned_data["task"] = ""
            if "task" not in self.errors:
                self.add_error("task", _("Name the task to run."))
            return self.cleaned_data
        return super().clean()


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class GridworkPeriodicTaskAdmin(SafeActionSelectionMixin, PeriodicTaskAdmin):
    form = SafePeriodicTaskForm


def check_action_selections(site) -> None:
    """The admins of the third-party apps (auth groups, django-axes, TOTP devices,
    django-celery-beat's schedules) get the selection check of ours: a tampered
    ``_selected_action`` is a message, not a 500. Each is registered again as a
    subclass with ``SafeActionSelectionMixin``; this module is imported last
    (``governance`` is the last installed app), after every other admin.
    ``tests/security/test_admin_actions.py`` fails on any admin left without it."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, SafeActionSelectionMixin):
            continue
        admin_class = type(model_admin)
        safe_class = type(
            admin_class.__name__,
            (SafeActionSelectionMixin, admin_class),
            {"__module__": admin_class.__module__},
        )
        site.unregister(model)
        site.register(model, safe_class)


check_action_selections(admin.site)
