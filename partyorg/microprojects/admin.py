"""Admin of 民生微实事 for staff: read only and scoped; the steps are taken on
the project's phone page (``project_link``), through the services."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from grids.admin_mixins import ReadOnlyMixin, ScopedAdminMixin

from .models import MicroProject, MicroProjectEvent, MicroProjectMilestone


class MilestoneInline(admin.TabularInline):
    model = MicroProjectMilestone
    extra = 0
    fields = ("recorded_at", "note", "photo", "recorded_by")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventInline(MilestoneInline):
    model = MicroProjectEvent
    fields = ("created_at", "action", "from_state", "to_state", "actor", "note")
    readonly_fields = fields


@admin.register(MicroProject)
class MicroProjectAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path = "community"
    list_display = (
        "title",
        "community",
        "state",
        "budget",
        "spent",
        "created_at",
        "project_link",
    )
    list_filter = ("state",)
    list_select_related = ("community",)
    search_fields = ("title",)
    fields = (
        "title",
        "community",
        "description",
        "topic",
        "state",
        "budget",
        "spent",
        "reject_reason",
        "result",
        "created_at",
        "accepted_at",
        "project_link",
    )
    readonly_fields = fields
    inlines = [MilestoneInline, EventInline]

    @admin.display(description=_("page"))
    def project_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("m:party:project_detail", args=[obj.pk]),
            gettext("Open the project's page to take its steps"),
        )
