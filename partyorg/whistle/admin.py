"""Admin pages of 吹哨报到 for staff: read only and scoped. Whistles are blown
and arrivals recorded on the phone pages, through the services."""

from django.contrib import admin

from grids.admin_mixins import ReadOnlyMixin, ScopedAdminMixin

from .models import Whistle, WhistleCall


class WhistleCallInline(admin.TabularInline):
    model = WhistleCall
    extra = 0
    fields = ("department", "called_member", "status", "arrived_at", "absent_marked_at")
    readonly_fields = fields
    can_delete = False

    @admin.display(description=WhistleCall._meta.get_field("member").verbose_name)
    def called_member(self, obj):
        return obj.member.masked_name if obj.member_id else ""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Whistle)
class WhistleAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "region", "blown_at", "report_by", "blown_by")
    list_select_related = ("region", "blown_by")
    search_fields = ("title", "meeting_point")
    date_hierarchy = "blown_at"
    fields = (
        "title",
        "region",
        "community",
        "ticket",
        "topic",
        "meeting_point",
        "note",
        "blown_by",
        "blown_at",
        "report_by",
    )
    inlines = [WhistleCallInline]
