"""Admin pages of community deliberation for staff, scoped by Region.

Councils, their seats and each community's kind are kept here through the
services; topics, step records, votes and ballots are read here and moved on
the topic's page (the phone page, also fine on a desk), never by editing
their state fields. A secret ballot shows no choice anywhere.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from grids.admin_mixins import (
    ReadOnlyMixin,
    ScopedAdminMixin,
    ServiceErrorMixin,
    ServiceSaveMixin,
)

from . import permissions, services
from .models import (
    Ballot,
    CommunityProfile,
    Council,
    CouncilMember,
    Topic,
    TopicStep,
    VoteItem,
)


@admin.register(CommunityProfile)
class CommunityProfileAdmin(ScopedAdminMixin, ServiceErrorMixin, admin.ModelAdmin):
    scope_path = "community"
    write_permission = staticmethod(permissions.can_keep_councils)
    list_display = ("community", "kind", "path_display")
    list_filter = ("kind",)
    list_select_related = ("community",)
    autocomplete_fields = ("community",)
    fields = ("community", "kind")

    @admin.display(description=_("path"))
    def path_display(self, obj):
        from .choices import Path

        return Path(obj.path).label

    def get_readonly_fields(self, request, obj=None):
        return ("community",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        obj.pk = services.community_kind_set(
            actor=request.user,
            community=obj.community,
            kind=form.cleaned_data["kind"],
        ).pk


class CouncilMemberInline(admin.TabularInline):
    model = CouncilMember
    fields = ("name", "side", "grid_worker", "party_member", "resident", "is_active")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Council)
class CouncilAdmin(
    ScopedAdminMixin, ServiceErrorMixin, ServiceSaveMixin, admin.ModelAdmin
):
    write_permission = staticmethod(permissions.can_keep_councils)
    list_display = (
        "name",
        "kind",
        "region",
        "secret_ballot",
        "quorum_percent",
        "majority_percent",
        "is_active",
    )
    list_filter = ("kind", "secret_ballot", "is_active")
    list_select_related = ("region",)
    search_fields = ("name",)
    autocomplete_fields = ("region",)
    inlines = [CouncilMemberInline]
    service_fields = (
        "region",
        "name",
        "kind",
        "secret_ballot",
        "quorum_percent",
        "majority_percent",
        "is_active",
    )

    def get_readonly_fields(self, request, obj=None):
        return ("region", "kind") if obj is not None else ()

    def service_create(self, request, fields):
        return services.council_create(actor=request.user, **fields)

    def service_update(self, request, obj, changed):
        return services.council_update(
            actor=request.user,
            council_id=obj.pk,
            **{
                f: v
                for f, v in changed.items()
                if f in services.COUNCIL_EDITABLE_FIELDS
            },
        )

    def save_related(self, request, form, formsets, change):
        pass  # seats are added on the council member page, through the service


@admin.register(CouncilMember)
class CouncilMemberAdmin(ScopedAdminMixin, ServiceErrorMixin, admin.ModelAdmin):
    scope_path = "council__region"
    write_permission = staticmethod(permissions.can_keep_councils)
    list_display = ("name", "side", "council", "is_active")
    list_filter = ("side", "is_active")
    list_select_related = ("council",)
    search_fields = ("name", "council__name")
    raw_id_fields = ("grid_worker", "party_member", "resident")
    fields = ("council", "side", "name", "grid_worker", "party_member", "resident")
    actions = ["remove_selected"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.council_member_add(
            actor=request.user,
            council_id=data["council"].pk,
            side=data["side"],
            name=data.get("name") or "",
            grid_worker=data.get("grid_worker"),
            party_member=data.get("party_member"),
            resident=data.get("resident"),
        ).pk

    @admin.action(description=_("Take the seats of the selected members away"))
    def remove_selected(self, request, queryset):
        for member_id in queryset.values_list("pk", flat=True):
            services.council_member_remove(actor=request.user, member_id=member_id)
        self.message_user(request, gettext("Done."))


class TopicStepInline(admin.TabularInline):
    model = TopicStep
    fields = (
        "position",
        "step",
        "owner",
        "participants",
        "minutes",
        "started_on",
        "completed_on",
        "recorded_by",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Topic)
class TopicAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Topics are raised and moved on their page (``topic_link``)."""

    list_display = (
        "title",
        "community",
        "region",
        "source",
        "state",
        "kind",
        "path",
        "steps_done",
        "raised_at",
        "topic_link",
    )
    list_filter = ("state", "path", "source", "kind")
    list_select_related = ("community", "region")
    search_fields = ("title",)
    date_hierarchy = "raised_at"
    inlines = [TopicStepInline]
    fields = (
        "title",
        "description",
        "community",
        "region",
        "source",
        "ticket",
        "council",
        "path",
        "state",
        "kind",
        "screening_note",
        "screened_by",
        "screened_at",
        "steps_done",
        "raised_by",
        "raised_at",
        "concluded_at",
        "topic_link",
    )
    readonly_fields = fields

    @admin.display(description=_("page"))
    def topic_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("m:party:topic_detail", args=[obj.pk]),
            gettext("Open the topic's page"),
        )


@admin.register(TopicStep)
class TopicStepAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path = "topic__region"
    list_display = ("topic", "step", "owner", "completed_on", "recorded_by")
    list_filter = ("step",)
    list_select_related = ("topic", "recorded_by")
    search_fields = ("topic__title",)


@admin.register(VoteItem)
class VoteItemAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path = "topic__region"
    list_display = (
        "text",
        "topic",
        "council",
        "state",
        "result",
        "votes_for",
        "votes_against",
        "votes_abstain",
        "eligible_count",
        "secret",
    )
    list_filter = ("state", "result", "secret")
    list_select_related = ("topic", "council")
    search_fields = ("text", "topic__title")


@admin.register(Ballot)
class BallotAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Who has voted; the choice only for an open (not secret) vote."""

    scope_path = "item__topic__region"
    list_display = ("item", "member", "cast_at", "vote_display")
    list_filter = ("item__state",)
    list_select_related = ("item", "member")
    fields = ("item", "member", "cast_at", "vote_display", "recorded_by")
    readonly_fields = fields

    @admin.display(description=_("vote"))
    def vote_display(self, obj):
        if obj.item.secret:
            return pgettext("deliberation", "secret")
        return obj.get_vote_display()
