"""Admin of the service sites, scoped by Region; saves through the services."""

from django.contrib import admin

from grids.admin_mixins import ScopedAdminMixin, ServiceErrorMixin, ServiceSaveMixin

from . import services
from .models import ServiceSite


@admin.register(ServiceSite)
class ServiceSiteAdmin(
    ScopedAdminMixin, ServiceErrorMixin, ServiceSaveMixin, admin.ModelAdmin
):
    write_permission = staticmethod(services.can_manage_sites)
    list_display = ("name", "kind", "region", "address", "opening_hours", "is_active")
    list_filter = ("kind", "is_active")
    list_select_related = ("region",)
    search_fields = ("name", "address")
    autocomplete_fields = ("region",)
    fields = services.SITE_FIELDS
    service_fields = services.SITE_FIELDS
    create_drops = ()

    def service_create(self, request, fields):
        return services.service_site_create(actor=request.user, **fields)

    def service_update(self, request, obj, changed):
        return services.service_site_update(
            actor=request.user, site_id=obj.pk, **changed
        )
