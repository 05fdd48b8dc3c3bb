"""Staff pages of the 12345 integration: the platforms (an administrator's),
the mapping tables (the street centre's), the pushes received and the
callbacks, with a "send again" action. Imported by ``tickets.admin``.

Every write goes through ``services`` / ``outbox``; every list is scoped with
``selectors``. A platform's secret is shown once, when made or rotated.
"""

from collections.abc import Callable

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from grids.admin_mixins import ReadOnlyMixin, ScopedAdminMixin, ServiceErrorMixin
from grids.errors import DomainError
from grids.permissions import can_view

from . import outbox, selectors, services
from .choices import DeliveryState
from .models import (
    HotlineAreaMapping,
    HotlineCategoryMapping,
    HotlineDelivery,
    HotlineInbound,
    HotlinePlatform,
)


def _secret_message(request, secret: str) -> None:
    messages.warning(
        request,
        format_html(
            "{} <code>{}</code>",
            gettext(
                "The platform's secret, shown this once: give it to the platform "
                "now; it cannot be read again (rotate it if it is lost)."
            ),
            secret,
        ),
    )


@admin.register(HotlinePlatform)
class HotlinePlatformAdmin(ServiceErrorMixin, ScopedAdminMixin, admin.ModelAdmin):
    write_permission = staticmethod(services.can_keep_platforms)
    list_display = ("name", "code", "region", "enabled", "callback_url")
    list_filter = ("enabled",)
    search_fields = ("name", "code")
    fields = (
        "name",
        "code",
        "region",
        "fallback_region",
        "callback_url",
        "enabled",
        "account",
        "created_at",
    )
    readonly_fields = ("account", "created_at")
    actions = ["rotate_secret"]

    def get_queryset(self, request):
        return selectors.platforms_visible_to(request.user)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data.get(f) for f in services.PLATFORM_FIELDS}
        if not change:
            platform, secret = services.hotline_platform_create(
                actor=request.user,
                name=data["name"],
                code=data["code"],
                region=data["region"],
                callback_url=data["callback_url"] or "",
                fallback_region=data["fallback_region"],
                enabled=bool(data["enabled"]),
            )
            obj.pk = platform.pk
            _secret_message(request, secret)
            return
        changed = {
            f: data[f] for f in services.PLATFORM_FIELDS if f in form.changed_data
        }
        if changed:
            services.hotline_platform_update(
                actor=request.user, platform_id=obj.pk, **changed
            )

    @admin.action(description=_("Make a new secret (the old one stops working)"))
    def rotate_secret(self, request, queryset):
        for platform in queryset:
            try:
                secret = services.hotline_platform_rotate_secret(
                    actor=request.user, platform_id=platform.pk
                )
            except DomainError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
                return
            _secret_message(request, f"{platform.code}: {secret}")


class _MappingAdmin(ServiceErrorMixin, ScopedAdminMixin, admin.ModelAdmin):
    """A mapping table kept by street staff: the rows of the platforms and places
    of their area (``visible_to``), the platform fixed once saved, every save
    through the table's service (``save_service``, given the platform, the
    form's ``saved_fields`` and the row's id when it is changed)."""

    write_permission = staticmethod(services.can_keep_mappings)
    list_filter = (("platform", admin.RelatedOnlyFieldListFilter),)
    visible_to: Callable
    save_service: Callable
    saved_fields: tuple[str, ...] = ()

    def get_queryset(self, request):
        return self.visible_to(request.user)

    def get_readonly_fields(self, request, obj=None):
        return ("platform",) if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "platform":
            kwargs["queryset"] = selectors.platforms_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        saved = self.save_service(
            actor=request.user,
            platform=obj.platform,
            mapping_id=obj.pk if change else None,
            **{name: form.cleaned_data.get(name) for name in self.saved_fields},
        )
        obj.pk = saved.pk


@admin.register(HotlineCategoryMapping)
class HotlineCategoryMappingAdmin(_MappingAdmin):
    list_display = ("code", "category", "platform")
    search_fields = ("code",)
    fields = ("platform", "code", "category")
    visible_to = staticmethod(selectors.category_mappings_visible_to)
    save_service = staticmethod(services.hotline_category_mapping_save)
    saved_fields = ("code", "category")


@admin.register(HotlineAreaMapping)
class HotlineAreaMappingAdmin(_MappingAdmin):
    list_display = ("area_code", "address_prefix", "region", "platform")
    search_fields = ("area_code", "address_prefix")
    fields = ("platform", "area_code", "address_prefix", "region")
    visible_to = staticmethod(selectors.area_mappings_visible_to)
    save_service = staticmethod(services.hotline_area_mapping_save)
    saved_fields = ("area_code", "address_prefix", "region")


class FlaggedFilter(admin.SimpleListFilter):
    title = _("needs mapping")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(flags=[])
        if self.value() == "no":
            return queryset.filter(flags=[])
        return queryset


@admin.register(HotlineInbound)
class HotlineInboundAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "platform",
        "ticket",
        "flag_list",
        "category_code",
        "area_code",
        "platform_deadline",
        "received_at",
    )
    list_filter = (("platform", admin.RelatedOnlyFieldListFilter), FlaggedFilter)
    search_fields = ("number",)
    list_select_related = ("platform", "ticket")
    fields = (
        "number",
        "platform",
        "ticket",
        "flag_list",
        "category_code",
        "area_code",
        "platform_deadline",
        "received_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.inbound_visible_to(request.user)

    def has_module_permission(self, request):
        return can_view(request.user)

    def has_view_permission(self, request, obj=None):
        return can_view(request.user)

    @admin.display(description=_("triage flags"))
    def flag_list(self, obj):
        from .choices import TriageFlag

        return ", ".join(str(TriageFlag(f).label) for f in obj.flags) or "—"


@admin.register(HotlineDelivery)
class HotlineDeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "platform",
        "ticket",
        "change",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status",
        "last_error",
        "delivered_at",
    )
    list_filter = ("state", ("platform", admin.RelatedOnlyFieldListFilter))
    search_fields = ("ticket__hotline_number", "ticket__number")
    list_select_related = ("platform", "ticket", "event")
    fields = (
        "id",
        "platform",
        "ticket",
        "change",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status",
        "last_error",
        "created_at",
        "delivered_at",
        "payload",
    )
    readonly_fields = fields
    actions = ["resend"]

    def get_queryset(self, request):
        return selectors.deliveries_visible_to(request.user).select_related("event")

    def has_module_permission(self, request):
        return can_view(request.user)

    def has_view_permission(self, request, obj=None):
        return can_view(request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not outbox.can_resend(request.user):
            actions.pop("resend", None)
        return actions

    @admin.display(description=_("change"))
    def change(self, obj):
        return obj.event.get_action_display()

    @admin.action(description=_("Send again (dead or waiting callbacks)"))
    def resend(self, request, queryset):
        ids = list(
            queryset.filter(
                state__in=[DeliveryState.DEAD, DeliveryState.RETRY]
            ).values_list("pk", flat=True)
        )
        try:
            count = outbox.hotline_deliveries_resend(
                actor=request.user, delivery_ids=ids
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        self.message_user(
            request,
            gettext("%(count)d callbacks queued to be sent again.") % {"count": count},
        )
