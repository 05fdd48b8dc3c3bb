"""Admin pages of the partyorg app, scoped by Region.

Every write calls ``partyorg.services``; a refused action is shown as the
service's message. Wish changes are made on the wish's action page, never by
editing the state field.
"""

from django.contrib import admin, messages
from django.db.models import BooleanField, ExpressionWrapper
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from mptt.admin import MPTTModelAdmin

from grids.admin_mixins import (
    HistoryAdminMixin,
    ReadOnlyMixin,
    ScopedAdminMixin,
    ServiceErrorMixin,
)
from grids.choices import RegionLevel
from grids.errors import DomainError
from grids.selectors import region_list

from . import permissions, services
from .forms import PartyMemberAdminForm, wish_action_submit
from .models import (
    PartyMember,
    PartyOrg,
    Registration,
    ServiceRecord,
    Wish,
    WishEvent,
)
from .services.wishes import stale_days, stale_wish_q


@admin.register(PartyOrg)
class PartyOrgAdmin(
    ScopedAdminMixin, ServiceErrorMixin, HistoryAdminMixin, MPTTModelAdmin
):
    write_permission = staticmethod(permissions.can_manage_orgs)
    mptt_level_indent = 24
    change_list_template = "admin/partyorg/partyorg/change_list.html"
    list_display = ("name", "org_type", "region", "secretary", "is_active")
    list_filter = ("org_type", "is_active")
    list_select_related = ("region",)
    search_fields = ("name", "region__name")
    autocomplete_fields = ("region",)
    fields = ("parent", "name", "org_type", "region", "secretary", "is_active")

    def get_readonly_fields(self, request, obj=None):
        return ("parent", "org_type", "region") if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = PartyOrg.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            changed = {
                f: data[f]
                for f in services.ORG_EDITABLE_FIELDS
                if f in form.changed_data
            }
            if changed:
                services.party_org_update(actor=request.user, org_id=obj.pk, **changed)
        else:
            obj.pk = services.party_org_create(
                actor=request.user,
                name=data["name"],
                org_type=data["org_type"],
                region=data["region"],
                parent=data.get("parent"),
                secretary=data.get("secretary", ""),
                is_active=data.get("is_active", True),
            ).pk
        obj.refresh_from_db()


class RegistrationInline(admin.TabularInline):
    model = Registration
    extra = 0
    fields = ("community", "registered_on", "is_active", "ended_on")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PartyMember)
class PartyMemberAdmin(
    ScopedAdminMixin, ServiceErrorMixin, HistoryAdminMixin, admin.ModelAdmin
):
    scope_path = "organisation__region"
    write_permission = staticmethod(permissions.can_manage_members)
    list_display = (
        "name",
        "masked_phone_display",
        "organisation",
        "is_in_service",
        "employer",
        "is_grid_head",
        "is_building_head",
        "is_unit_head",
        "is_active",
    )
    list_filter = (
        "is_active",
        "is_in_service",
        "is_grid_head",
        "is_building_head",
        "is_unit_head",
    )
    list_select_related = ("organisation",)
    search_fields = ("name", "employer")
    autocomplete_fields = ("organisation", "grid_worker")
    inlines = [RegistrationInline]
    form = PartyMemberAdminForm
    fields = (
        "name",
        "phone",
        "organisation",
        "is_active",
        ("is_in_service", "employer"),
        ("is_grid_head", "is_building_head", "is_unit_head"),
        "grid_worker",
    )
    add_fields = (*fields[:3], "community", *fields[4:])

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "community" in form.base_fields:
            form.base_fields["community"].queryset = region_list(
                actor=request.user, levels=[RegionLevel.COMMUNITY]
            )
        return form

    def get_queryset(self, request):
        # Seen through the organisation or an active registration (双报到).
        return PartyMember.objects.visible_to(request.user).select_related(
            "organisation"
        )

    @admin.display(description=_("phone"))
    def masked_phone_display(self, obj):
        return obj.masked_phone

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.add_fields
        fields = list(super().get_fields(request, obj))
        if not self._may_write(request):
            fields[fields.index("phone")] = "masked_phone_display"
        return fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not self._may_write(request):
            return ("masked_phone_display",)
        return ()

    def save_model(self, request, obj, form, change):
        data = {
            f: form.cleaned_data[f]
            for f in services.MEMBER_EDITABLE_FIELDS
            if f in form.cleaned_data
        }
        if change:
            changed = {f: v for f, v in data.items() if f in form.changed_data}
            if changed:
                services.party_member_update(
                    actor=request.user, member_id=obj.pk, **changed
                )
        else:
            data.pop("is_active", None)
            obj.pk = services.party_member_create(
                actor=request.user, community=form.cleaned_data.get("community"), **data
            ).pk

    def save_related(self, request, form, formsets, change):
        pass  # registrations are added on their own page (through the service)


class ServiceRecordInline(admin.TabularInline):
    model = ServiceRecord
    extra = 0
    fields = ("served_on", "task", "hours", "note", "recorded_by")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Registration)
class RegistrationAdmin(ScopedAdminMixin, ServiceErrorMixin, admin.ModelAdmin):
    scope_path = "community"
    write_permission = staticmethod(permissions.can_manage_members)
    list_display = ("member", "community", "registered_on", "is_active", "ended_on")
    list_filter = ("is_active",)
    list_select_related = ("member", "community")
    search_fields = ("member__name", "community__name")
    autocomplete_fields = ("member", "community")
    fields = ("member", "community", "registered_on", "ended_on")
    inlines = [ServiceRecordInline]

    def get_readonly_fields(self, request, obj=None):
        return ("member", "community", "registered_on") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            if "ended_on" in form.changed_data and data.get("ended_on"):
                services.registration_end(
                    actor=request.user,
                    registration_id=obj.pk,
                    ended_on=data["ended_on"],
                )
        else:
            obj.pk = services.registration_create(
                actor=request.user,
                member_id=data["member"].pk,
                community=data["community"],
                registered_on=data.get("registered_on"),
            ).pk
        obj.refresh_from_db()


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ScopedAdminMixin, ServiceErrorMixin, admin.ModelAdmin):
    scope_path = "registration__community"
    write_permission = staticmethod(permissions.can_record_service)
    list_display = ("served_on", "member_name", "community", "task", "hours")
    list_filter = ("served_on",)
    list_select_related = ("registration__member", "registration__community")
    search_fields = ("task", "registration__member__name")
    date_hierarchy = "served_on"
    autocomplete_fields = ("registration",)
    fields = ("registration", "task", "hours", "served_on", "note")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description=_("party member"))
    def member_name(self, obj):
        return obj.registration.member.name

    @admin.display(description=_("community"))
    def community(self, obj):
        return obj.registration.community

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.service_record_log(
            actor=request.user,
            registration_id=data["registration"].pk,
            task=data["task"],
            hours=data["hours"],
            served_on=data["served_on"],
            note=data.get("note", ""),
        ).pk


class StaleWishFilter(admin.SimpleListFilter):
    title = _("unclaimed")
    parameter_name = "stale"

    def lookups(self, request, model_admin):
        return [
            (
                "yes",
                _("Unclaimed for more than %(days)d days") % {"days": stale_days()},
            )
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(stale_wish_q())
        return queryset


class WishEventInline(admin.TabularInline):
    model = WishEvent
    extra = 0
    fields = (
        "created_at",
        "action",
        "from_state",
        "to_state",
        "actor",
        "member",
        "note",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Wish)
class WishAdmin(ScopedAdminMixin, ServiceErrorMixin, admin.ModelAdmin):
    write_permission = staticmethod(permissions.can_post_wish)
    list_display = (
        "title",
        "beneficiary",
        "region",
        "state",
        "claimed_by",
        "posted_at",
        "stale_flag",
    )
    list_filter = ("state", StaleWishFilter)
    list_select_related = ("region", "claimed_by")
    search_fields = ("title", "beneficiary")
    date_hierarchy = "posted_at"
    autocomplete_fields = ("region",)
    raw_id_fields = ("resident",)
    inlines = [WishEventInline]
    actions = ["confirm_selected"]
    add_fields = ("region", "title", "beneficiary", "estimated_value", "resident")
    change_fields = (
        "title",
        "beneficiary",
        "region",
        "estimated_value",
        "state",
        "claimed_by",
        "claimed_at",
        "fulfilled_at",
        "fulfilment_note",
        "photo",
        "confirmed_at",
        "closed_at",
        "posted_by",
        "posted_at",
        "act_link",
    )

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.change_fields

    def get_readonly_fields(self, request, obj=None):
        return self.change_fields if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        # The change page shows the wish; changes go through the action page.
        return False if obj is not None else super().has_change_permission(request)

    def has_add_permission(self, request):
        return permissions.can_post_wish(request.user)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                is_stale=ExpressionWrapper(stale_wish_q(), output_field=BooleanField())
            )
        )

    @admin.display(description=_("unclaimed too long"), boolean=True)
    def stale_flag(self, obj):
        return getattr(obj, "is_stale", False)

    @admin.display(description=_("actions"))
    def act_link(self, obj):
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:partyorg_wish_act", args=[obj.pk]),
            gettext("Record a step of this wish"),
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.wish_post(
            actor=request.user,
            region=data["region"],
            title=data["title"],
            beneficiary=data["beneficiary"],
            estimated_value=data.get("estimated_value"),
            resident=data.get("resident"),
        ).pk

    def save_related(self, request, form, formsets, change):
        pass  # the event was written by the service

    def get_urls(self):
        return [
            path(
                "<int:wish_id>/act/",
                self.admin_site.admin_view(self.act_view),
                name="partyorg_wish_act",
            ),
            *super().get_urls(),
        ]

    def act_view(self, request, wish_id: int):
        wish = self.get_queryset(request).filter(pk=wish_id).first()
        if wish is None:
            raise Http404
        form, saved = wish_action_submit(request, wish=wish)
        if saved:
            return HttpResponseRedirect(
                reverse("admin:partyorg_wish_change", args=[wish.pk])
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Record a step: %(wish)s") % {"wish": wish.title},
            "wish": wish,
            "form": form,
        }
        return TemplateResponse(request, "partyorg/wish_act.html", context)

    @admin.action(description=_("Confirm the selected fulfilled wishes"))
    def confirm_selected(self, request, queryset):
        done, refused = 0, []
        for wish_id in queryset.values_list("pk", flat=True):
            try:
                services.wish_confirm(actor=request.user, wish_id=wish_id)
                done += 1
            except DomainError as exc:
                refused.append(exc.message)
        self.message_user(request, gettext("%(count)d confirmed.") % {"count": done})
        for message in sorted(set(refused)):
            self.message_user(request, message, level=messages.WARNING)


@admin.register(WishEvent)
class WishEventAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    """The append-only log: read only for everybody."""

    scope_path = "wish__region"
    list_display = ("created_at", "wish", "action", "from_state", "to_state", "actor")
    list_filter = ("action",)
    list_select_related = ("wish", "actor")
    search_fields = ("wish__title",)


# Community deliberation (议事协商) registers its own admin pages.
import partyorg.deliberation.admin  # noqa: E402,F401

from .microprojects import admin as _microprojects_admin  # noqa: E402,F401
from .sites import admin as _sites_admin  # noqa: E402,F401
from .whistle import admin as _whistle_admin  # noqa: E402,F401
