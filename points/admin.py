"""Admin for staff: the rules catalogue, community policies, the approvals queue,
prizes and stock, redemptions, accounts and the ledger (read-only, with an Excel
export). Every booking goes through ``points.services``; querysets are scoped."""

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.validators import MaxValueValidator
from django.db.models import Count, Min, OuterRef, Q, Subquery
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from grids import permissions as grid_permissions
from grids.admin_mixins import (
    HistoryAdminMixin,
    ReadOnlyMixin,
    ScopedAdminMixin,
    ServiceErrorMixin,
    SharedListAdminMixin,
)
from grids.errors import DomainError
from grids.models import Resident
from grids.permissions import require_in_scope
from grids.querysets import ancestors_or_self_q

from . import permissions, services
from .choices import (
    REDEMPTION_TRANSITIONS,
    AwardAction,
    AwardStatus,
    RedemptionAction,
)
from .exports import export_filename, ledger_workbook
from .forms import LedgerExportForm, ReasonForm
from .links import statement_url
from .models import (
    Award,
    AwardEvent,
    CommunityPointsPolicy,
    LedgerEntry,
    PointsAccount,
    Prize,
    Redemption,
    RedemptionEvent,
    RuleCategory,
    RuleItem,
)


def _reason_action(modeladmin, request, queryset, *, title, action, apply):
    """An admin action that asks for a reason on an intermediate page first."""
    if request.POST.get("confirm") == "yes":
        form = ReasonForm(request.POST)
        if form.is_valid():
            done, refused = 0, []
            for obj in queryset:
                try:
                    apply(obj, form.cleaned_data["reason"])
                except DomainError as exc:
                    refused.append(f"{obj}: {exc.message}")
                else:
                    done += 1
            modeladmin.message_user(
                request, gettext("%(count)d done.") % {"count": done}
            )
            for message in refused:
                modeladmin.message_user(request, message, level=messages.ERROR)
            return None
    else:
        form = ReasonForm()
    return TemplateResponse(
        request,
        "admin/points/reason_form.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "objects": list(queryset),
            "form": form,
            "action": action,
            "opts": modeladmin.model._meta,
        },
    )


# --- the rules catalogue -----------------------------------------------------


class RulesAdminMixin(SharedListAdminMixin):
    """The catalogue is shared by every community: everyone views, street staff
    edit, nobody deletes (awards refer to it; switch an item off instead)."""


class CatalogueAdminMixin(RulesAdminMixin, ServiceErrorMixin):
    """Every change, in the form or in the list, goes through the catalogue
    services; a refusal is shown as a message."""

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def _saved(obj, saved) -> None:
    """Point the admin's unsaved ``obj`` at the row the service saved."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj.refresh_from_db()


def _changes(form, fields) -> dict:
    return {f: form.cleaned_data[f] for f in form.changed_data if f in fields}


RULE_ITEM_FORM_FIELDS = (
    "name",
    "points",
    "cap_count",
    "cap_period",
    "active_from",
    "active_until",
    "is_active",
    "code",
)


class RuleItemInline(RulesAdminMixin, admin.TabularInline):
    model = RuleItem
    extra = 0
    fields = RULE_ITEM_FORM_FIELDS


@admin.register(RuleCategory)
class RuleCategoryAdmin(CatalogueAdminMixin, HistoryAdminMixin, admin.ModelAdmin):
    list_display = ("name", "sort_order", "is_active", "item_count")
    list_editable = ("sort_order", "is_active")
    fields = ("name", "sort_order", "is_active", "code")
    search_fields = ("name", "items__name")
    inlines = [RuleItemInline]

    def get_queryset(self, request):
        # One count per row, in the list's own query.
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(description=_("items"), ordering="item_count")
    def item_count(self, obj):
        return obj.item_count

    def save_model(self, request, obj, form, change):
        if change:
            changes = _changes(form, services.RULE_CATEGORY_FIELDS)
            if changes:
                services.rule_category_update(
                    actor=request.user, category_id=obj.pk, **changes
                )
                obj.refresh_from_db()
            return
        data = form.cleaned_data
        _saved(
            obj,
            services.rule_category_create(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                sort_order=data.get("sort_order") or 0,
                is_active=data.get("is_active", True),
            ),
        )

    def save_formset(self, request, form, formset, change):
        # What the admin's change message reads (formset.save() would set these).
        formset.new_objects, formset.changed_objects = [], []
        formset.deleted_objects = []
        for item_form in formset.forms:
            if not item_form.has_changed() or item_form in formset.deleted_forms:
                continue
            item = item_form.instance
            if item.pk:
                changes = _changes(item_form, services.RULE_ITEM_FIELDS)
                if changes:
                    services.rule_item_update(
                        actor=request.user, rule_item_id=item.pk, **changes
                    )
                    formset.changed_objects.append((item, list(changes)))
                continue
            data = item_form.cleaned_data
            _saved(
                item,
                services.rule_item_create(
                    actor=request.user,
                    category=form.instance,
                    **{f: data.get(f) for f in RULE_ITEM_FORM_FIELDS},
                ),
            )
            formset.new_objects.append(item)


@admin.register(RuleItem)
class RuleItemAdmin(CatalogueAdminMixin, HistoryAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "category",
        "points",
        "cap_count",
        "cap_period",
        "active_from",
        "active_until",
        "is_active",
    )
    list_filter = ("category", "is_active", "cap_period")
    list_select_related = ("category",)
    search_fields = ("name", "code")
    fields = ("category", *RULE_ITEM_FORM_FIELDS)

    def save_model(self, request, obj, form, change):
        if change:
            changes = _changes(form, services.RULE_ITEM_FIELDS)
            if changes:
                services.rule_item_update(
                    actor=request.user, rule_item_id=obj.pk, **changes
                )
                obj.refresh_from_db()
            return
        data = form.cleaned_data
        _saved(
            obj,
            services.rule_item_create(
                actor=request.user,
                **{f: data.get(f) for f in ("category", *RULE_ITEM_FORM_FIELDS)},
            ),
        )


# --- per-community policy ----------------------------------------------------


class PolicyForm(forms.ModelForm):
    class Meta:
        model = CommunityPointsPolicy
        fields = ("community", "pool_by_household", "expire_at_year_end")


@admin.register(CommunityPointsPolicy)
class CommunityPointsPolicyAdmin(ScopedAdminMixin, ServiceErrorMixin, admin.ModelAdmin):
    scope_path = "community"
    write_permission = staticmethod(permissions.can_manage_policy)
    form = PolicyForm
    list_display = (
        "community",
        "pool_by_household",
        "expire_at_year_end",
        "updated_at",
    )
    list_select_related = ("community",)

    def get_readonly_fields(self, request, obj=None):
        return ("community",) if obj else ()

    def save_model(self, request, obj, form, change):
        policy = services.policy_set(
            actor=request.user,
            community=obj.community,
            pool_by_household=form.cleaned_data["pool_by_household"],
            expire_at_year_end=form.cleaned_data["expire_at_year_end"],
        )
        obj.pk = policy.pk


# --- awards: proposals and the approvals queue ------------------------------------


class AwardProposalAdminForm(forms.ModelForm):
    idempotency_key = forms.CharField(
        label=_("idempotency key"), widget=forms.HiddenInput, max_length=64
    )

    class Meta:
        model = Award
        fields = ("resident", "rule_item", "awarded_on", "note", "photo")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)


class AwardStatusFilter(admin.SimpleListFilter):
    """The queue opens on the proposals still waiting for a decision."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*AwardStatus.choices, ("all", _("All"))]

    def choices(self, changelist):
        value = self.value() or AwardStatus.PROPOSED
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup}
                ),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or AwardStatus.PROPOSED
        return queryset if value == "all" else queryset.filter(status=value)


class EventInline(ReadOnlyMixin, admin.TabularInline):
    """An append-only log under its row: shown to whoever sees the row."""

    extra = 0
    fields = ("at", "action", "actor", "from_status", "to_status", "note")
    readonly_fields = fields
    ordering = ("at", "pk")

    def has_view_permission(self, request, obj=None):
        return grid_permissions.can_view(request.user)


class AwardEventInline(EventInline):
    """The award's log: every proposal and decision, who and when."""

    model = AwardEvent


# The admin action that takes each table action on the selected rows.
AWARD_ADMIN_ACTIONS = {
    AwardAction.APPROVE: "approve_selected",
    AwardAction.REJECT: "reject_selected",
}


@admin.register(Award)
class AwardAdmin(ScopedAdminMixin, ServiceErrorMixin, admin.ModelAdmin):
    scope_path = "resident__household__region"
    write_permission = staticmethod(permissions.can_propose_award)
    form = AwardProposalAdminForm
    list_display = (
        "created_at",
        "resident",
        "grid",
        "rule_item",
        "points",
        "awarded_on",
        "status",
        "proposed_by",
        "photo_link",
    )
    list_filter = (AwardStatusFilter, "rule_item__category", "awarded_on")
    list_select_related = (
        "resident__household__region",
        "rule_item",
        "proposed_by",
    )
    search_fields = ("resident__name", "rule_item__name", "note")
    autocomplete_fields = ("resident",)
    actions = list(AWARD_ADMIN_ACTIONS.values())
    readonly = (
        "resident",
        "rule_item",
        "awarded_on",
        "points",
        "note",
        "photo",
        "status",
        "proposed_by",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_note",
    )

    @admin.display(description=_("grid"))
    def grid(self, obj):
        return obj.resident.household.region

    @admin.display(description=_("photo"))
    def photo_link(self, obj):
        if not obj.photo:
            return ""
        return format_html('<a href="{}" target="_blank">{}</a>', obj.photo.url, "📷")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "rule_item":
            kwargs["queryset"] = RuleItem.objects.active_on(
                timezone.localdate()
            ).select_related("category")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return (*AwardProposalAdminForm.Meta.fields, "idempotency_key")
        return self.readonly

    def get_readonly_fields(self, request, obj=None):
        return self.readonly if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        # Decisions are taken with the actions; a proposal's fields never change.
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        award, created = services.award_propose(
            actor=request.user,
            resident_id=data["resident"].pk,
            rule_item_id=data["rule_item"].pk,
            awarded_on=data["awarded_on"],
            idempotency_key=data["idempotency_key"],
            note=data.get("note", ""),
            photo=data.get("photo") or None,
        )
        obj.pk = award.pk
        if not created:
            self.message_user(
                request, gettext("This proposal was already received."), messages.INFO
            )

    def get_inlines(self, request, obj):
        return [AwardEventInline] if obj is not None else []

    def get_actions(self, request):
        """Offer an action only where the table allows it from the listed status
        and the user's role may take it."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        status = request.GET.get(AwardStatusFilter.parameter_name) or (
            AwardStatus.PROPOSED
        )
        for action, name in AWARD_ADMIN_ACTIONS.items():
            allowed_here = status == "all" or action in permissions.award_actions_from(
                status
            )
            if not (
                allowed_here and permissions.AWARD_ACTION_ROLES[action](request.user)
            ):
                actions.pop(name, None)
        return actions

    @admin.action(description=_("Approve selected proposals"))
    def approve_selected(self, request, queryset):
        approved, refused = services.award_bulk_approve(
            actor=request.user,
            award_ids=queryset.values_list("pk", flat=True),
        )
        self.message_user(
            request,
            gettext("%(count)d proposals approved.") % {"count": len(approved)},
        )
        for award_id, message in refused.items():
            self.message_user(
                request,
                gettext("Proposal %(id)d: %(message)s")
                % {"id": award_id, "message": message},
                level=messages.ERROR,
            )

    @admin.action(description=_("Reject selected proposals"))
    def reject_selected(self, request, queryset):
        return _reason_action(
            self,
            request,
            queryset.select_related("resident", "rule_item"),
            title=gettext("Reject selected proposals"),
            action="reject_selected",
            apply=lambda award, reason: services.award_reject(
                actor=request.user, award_id=award.pk, reason=reason
            ),
        )


# --- prizes and stock -----------------------------------------------------------


class PrizeForm(forms.ModelForm):
    stock_delta = forms.IntegerField(
        label=_("add to stock"),
        required=False,
        min_value=-services.MAX_STOCK,
        max_value=services.MAX_STOCK,
        help_text=_("Positive to add, negative to take back."),
    )

    class Meta:
        model = Prize
        fields = ("region", "name", "description", "price", "stock", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "stock" in self.fields:
            self.fields["stock"].max_value = services.MAX_STOCK
            self.fields["stock"].validators.append(
                MaxValueValidator(services.MAX_STOCK)
            )
            self.fields["stock"].widget.attrs["max"] = services.MAX_STOCK


@admin.register(Prize)
class PrizeAdmin(
    ScopedAdminMixin, ServiceErrorMixin, HistoryAdminMixin, admin.ModelAdmin
):
    write_permission = staticmethod(permissions.can_manage_prizes)
    form = PrizeForm
    list_display = ("name", "region", "price", "stock", "is_active")
    list_filter = ("is_active",)
    list_select_related = ("region",)
    search_fields = ("name",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("region", "name", "description", "price", "stock", "is_active")
        return (
            "region",
            "name",
            "description",
            "price",
            "stock",
            "stock_delta",
            "is_active",
        )

    def get_readonly_fields(self, request, obj=None):
        return ("region", "stock") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            obj.pk = services.prize_create(
                actor=request.user,
                region=data["region"],
                name=data["name"],
                description=data.get("description", ""),
                price=data["price"],
                stock=data["stock"],
                is_active=data["is_active"],
            ).pk
            return
        changed = {
            f: data[f] for f in services.PRIZE_EDITABLE_FIELDS if f in form.changed_data
        }
        if changed:
            services.prize_update(actor=request.user, prize_id=obj.pk, **changed)
        if data.get("stock_delta"):
            services.prize_adjust_stock(
                actor=request.user, prize_id=obj.pk, delta=data["stock_delta"]
            )
        obj.refresh_from_db()


# --- redemptions ----------------------------------------------------------------


class RedemptionForm(forms.ModelForm):
    idempotency_key = forms.CharField(
        label=_("idempotency key"), widget=forms.HiddenInput, max_length=64
    )

    class Meta:
        model = Redemption
        fields = ("resident", "prize", "quantity")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)


class RedemptionEventInline(EventInline):
    model = RedemptionEvent


@admin.register(Redemption)
class RedemptionAdmin(ScopedAdminMixin, ServiceErrorMixin, admin.ModelAdmin):
    scope_path = "account__household__region"
    write_permission = staticmethod(permissions.can_redeem)
    form = RedemptionForm
    list_display = (
        "created_at",
        "resident",
        "prize",
        "quantity",
        "points",
        "status",
        "redeemed_by",
    )
    list_filter = ("status", "created_at")
    list_select_related = ("resident", "prize", "redeemed_by")
    search_fields = ("resident__name", "prize__name")
    autocomplete_fields = ("resident",)
    actions = ["cancel_selected"]
    readonly = (
        "resident",
        "account",
        "prize",
        "quantity",
        "points",
        "status",
        "redeemed_by",
        "created_at",
        "cancelled_by",
        "cancelled_at",
        "cancel_reason",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("resident", "prize", "quantity", "idempotency_key")
        return self.readonly

    def get_readonly_fields(self, request, obj=None):
        return self.readonly if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "prize":
            # A resident may take prizes of their community or of the street above:
            # offer every active prize on the way up from the user's scope, too.
            user = request.user
            qs = Prize.objects.active()
            if not user.is_superuser and user.region_id:
                qs = qs.filter(
                    Q(ancestors_or_self_q(user.region, "region"))
                    | Q(pk__in=Prize.objects.visible_to(user))
                )
            kwargs["queryset"] = qs.select_related("region")
            return admin.ModelAdmin.formfield_for_foreignkey(
                self, db_field, request, **kwargs
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.redemption_create(
            actor=request.user,
            resident_id=data["resident"].pk,
            prize_id=data["prize"].pk,
            quantity=data["quantity"],
            idempotency_key=data["idempotency_key"],
        ).pk

    def get_inlines(self, request, obj):
        return [RedemptionEventInline] if obj is not None else []

    def get_actions(self, request):
        """Offer 撤销兑换 only to a role that may take it, and not on a list
        filtered to a status the table cannot cancel from."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        starts, _to = REDEMPTION_TRANSITIONS[RedemptionAction.CANCEL]
        status = request.GET.get("status__exact")
        if (status and status not in starts) or not (
            permissions.REDEMPTION_ACTION_ROLES[RedemptionAction.CANCEL](request.user)
        ):
            actions.pop("cancel_selected", None)
        return actions

    @admin.action(description=_("Cancel selected redemptions"))
    def cancel_selected(self, request, queryset):
        return _reason_action(
            self,
            request,
            queryset.filter(
                status__in=REDEMPTION_TRANSITIONS[RedemptionAction.CANCEL][0]
            ).select_related("resident", "prize"),
            title=gettext("Cancel selected redemptions"),
            action="cancel_selected",
            apply=lambda redemption, reason: services.redemption_cancel(
                actor=request.user, redemption_id=redemption.pk, reason=reason
            ),
        )


# --- accounts and the ledger (read-only) -----------------------------------------


@admin.register(PointsAccount)
class PointsAccountAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path = "household__region"
    list_display = ("__str__", "household", "balance", "statement_link")
    list_select_related = ("household", "resident")
    search_fields = ("resident__name", "household__address")
    ordering = ("-balance",)

    def get_queryset(self, request):
        # A pooled account's statement opens through any active household member.
        member = (
            Resident.objects.filter(household=OuterRef("household"), is_active=True)
            .order_by()
            .values("household")
            .annotate(first=Min("pk"))
            .values("first")
        )
        return super().get_queryset(request).annotate(_member_id=Subquery(member))

    @admin.display(description=_("statement link"))
    def statement_link(self, obj):
        resident_id = obj.resident_id or obj._member_id
        if resident_id is None:
            return ""
        return format_html(
            '<a href="{}" target="_blank">{}</a>',
            statement_url(resident_id),
            gettext("open"),
        )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path = "account__household__region"
    list_display = ("created_at", "account", "kind", "amount", "note", "actor")
    list_filter = ("kind", "created_at")
    list_select_related = ("account__resident", "account__household", "actor")
    search_fields = ("account__resident__name", "account__household__address")
    date_hierarchy = "created_at"
    change_list_template = "admin/points/ledgerentry_change_list.html"

    def get_urls(self):
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="points_ledgerentry_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request):
        """积分台账: one community's ledger for one month, as Excel."""
        if not permissions.can_export_ledger(request.user):
            return HttpResponseRedirect(reverse("admin:index"))
        form = LedgerExportForm(
            request.GET if "download" in request.GET else None, user=request.user
        )
        if form.is_valid():
            community = form.cleaned_data["community"]
            require_in_scope(request.user, community)
            year, month = form.cleaned_data["year"], form.cleaned_data["month"]
            response = HttpResponse(
                ledger_workbook(community=community, year=year, month=month),
                content_type=(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                ),
            )
            filename = export_filename(community=community, year=year, month=month)
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
        return TemplateResponse(
            request,
            "admin/points/ledger_export.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Export the ledger to Excel"),
                "form": form,
                "opts": self.model._meta,
            },
        )
