"""Admin fixes for third-party apps the project installs."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin, PeriodicTaskForm
from django_celery_beat.models import PeriodicTask


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
class GridworkPeriodicTaskAdmin(PeriodicTaskAdmin):
    form = SafePeriodicTaskForm
