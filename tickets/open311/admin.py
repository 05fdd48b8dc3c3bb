"""Staff pages for Open311 client keys: the street centre issues a key to a
civic application (shown once, on the page after saving) and revokes it. The
list is scoped to the user's area; every write goes through ``services``."""

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from grids.admin_mixins import ScopedAdminMixin, ServiceErrorMixin
from grids.errors import DomainError

from .. import permissions
from . import services
from .models import Open311Client


@admin.register(Open311Client)
class Open311ClientAdmin(ServiceErrorMixin, ScopedAdminMixin, admin.ModelAdmin):
    write_permission = staticmethod(permissions.can_manage_open311_clients)
    list_display = (
        "name",
        "region",
        "key_prefix",
        "is_active",
        "created_at",
        "last_used_at",
    )
    list_filter = ("is_active",)
    search_fields = ("name",)
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "region")
        return (
            "name",
            "region",
            "key_prefix",
            "is_active",
            "created_at",
            "created_by",
            "last_used_at",
        )

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing on this page changes a key; revoke it instead
        client, raw_key = services.open311_client_create(
            actor=request.user,
            name=form.cleaned_data["name"],
            region=form.cleaned_data["region"],
        )
        obj.pk = client.pk
        self.message_user(
            request,
            gettext(
                "The key of %(name)s is %(key)s — copy it now: it is stored "
                "only as a digest and is never shown again."
            )
            % {"name": client.name, "key": raw_key},
            level=messages.WARNING,
        )

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                services.open311_client_revoke(actor=request.user, client_id=pk)
            except DomainError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
                return
            done += 1
        self.message_user(request, gettext("%(count)d keys revoked.") % {"count": done})
