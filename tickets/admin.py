"""Staff pages for tickets: the triage queue, the ticket list with its filters,
the ticket page (timeline, time left, the actions the user may take now), the
catalogue and the working calendar.

Every write goes through ``tickets.services``; a refused action shows the
service's message. Lists are scoped with ``Ticket.objects.visible_to``.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from mptt.admin import MPTTModelAdmin

from grids.admin_mixins import (
    SafeActionSelectionMixin,
    SafeDateHierarchyMixin,
    ScopedAdminMixin,
    SensitiveLookupMixin,
    ServiceErrorMixin,
    SharedListAdminMixin,
)
from grids.choices import RegionLevel
from grids.errors import DomainError
from grids.models import Region
from grids.permissions import can_keep_shared_lists, can_view
from grids.querysets import scope_q
from grids.selectors import region_list

from . import actions as ticket_actions
from . import forms, permissions, selectors, services
from .choices import Action, Stage, Verdict
from .filters import TicketFilterSet, filter_tickets
from .models import (
    Category,
    Department,
    HandlingLimit,
    LeaderQueueTicket,
    Ticket,
    TriageQueueTicket,
    WorkCalendarDay,
    WorkCalendarYear,
)
from .pagination import CappedPaginator

# --- catalogue -------------------------------------------------------------------
# The catalogue admins save through ``services.catalogue`` (validation, scope,
# one audit entry per change); a refused change shows the service's message.


def _changed(form, fields) -> dict:
    return {f: form.cleaned_data[f] for f in fields if f in form.changed_data}


def _save_with_deactivation(obj, form, *, fields, update, deactivate):
    """Update the changed fields; switching ``is_active`` off is a deactivation
    of its own (its own audit entry)."""
    changes = _changed(form, fields)
    deactivating = changes.get("is_active") is False
    if deactivating:
        del changes["is_active"]
    saved = update(changes) if changes or not deactivating else obj
    if deactivating:
        saved = deactivate()
    return saved


@admin.register(Department)
class DepartmentAdmin(ServiceErrorMixin, ScopedAdminMixin, admin.ModelAdmin):
    write_permission = staticmethod(permissions.can_manage_departments)
    list_display = ("name", "region", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    filter_horizontal = ("members",)
    fields = ("name", "region", "members", "is_active")

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs.filter(scope_q(request.user, "region") | Q(region__isnull=True))

    def has_change_permission(self, request, obj=None):
        # A shared department (no region) serves several streets: only a
        # superuser changes it; street staff see it read-only.
        if obj is not None and obj.region_id is None and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if not request.user.is_superuser and "region" in form.base_fields:
            # Street staff add departments of their own area only.
            form.base_fields["region"].required = True
        return form

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "members":
            # Members come from the actor's own area, not the whole province.
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(scope_q(request.user, "region"))
                .order_by("username")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        members = form.cleaned_data.get("members")
        if not change:
            saved = services.department_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                region=form.cleaned_data.get("region"),
                members=members or (),
            )
            if not form.cleaned_data.get("is_active", True):
                saved = services.department_deactivate(
                    actor=request.user, department_id=saved.pk
                )
        else:
            saved = _save_with_deactivation(
                obj,
                form,
                fields=("name", "region", "is_active"),
                update=lambda changes: services.department_update(
                    actor=request.user,
                    department_id=obj.pk,
                    members=members if "members" in form.changed_data else None,
                    **changes,
                ),
                deactivate=lambda: services.department_deactivate(
                    actor=request.user, department_id=obj.pk
                ),
            )
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        # Members were saved by the service, with the rest of the change.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(Category)
class CategoryAdmin(ServiceErrorMixin, SharedListAdminMixin, MPTTModelAdmin):
    list_display = (
        "name",
        "service_code",
        "default_department",
        "deadline",
        "is_active",
    )
    list_filter = ("deadline_class", "is_active")
    list_select_related = ("deadline_class", "default_department")
    search_fields = ("name", "service_code")
    fields = (
        "parent",
        "name",
        "service_code",
        "default_department",
        "deadline_class",
        "is_active",
    )

    @admin.display(description=_("deadline class"), ordering="deadline_class__days")
    def deadline(self, obj):
        return str(obj.deadline_class)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "default_department":
            # Only departments the user's area may send tickets to, never
            # another district's (the service refuses them too).
            kwargs["queryset"] = Department.objects.dispatchable_by(
                request.user
            ).order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        code = form.base_fields.get("service_code")
        if code is not None and obj is None:
            # A new category is given a meaningful code, not a placeholder.
            code.initial = None
            code.show_hidden_initial = False
        return form

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            saved = services.category_create(
                actor=request.user,
                name=data["name"],
                service_code=data.get("service_code", ""),
                parent=data.get("parent"),
                default_department=data.get("default_department"),
                deadline_class=data["deadline_class"],
            )
            if not data.get("is_active", True):
                saved = services.category_deactivate(
                    actor=request.user, category_id=saved.pk
                )
        else:
            saved = _save_with_deactivation(
                obj,
                form,
                fields=(
                    "parent",
                    "name",
                    "service_code",
                    "default_department",
                    "deadline_class",
                    "is_active",
                ),
                update=lambda changes: services.category_update(
                    actor=request.user, category_id=obj.pk, **changes
                ),
                deactivate=lambda: services.category_deactivate(
                    actor=request.user, category_id=obj.pk
                ),
            )
        obj.pk = saved.pk


@admin.register(HandlingLimit)
class HandlingLimitAdmin(ServiceErrorMixin, admin.ModelAdmin):
    """Deadline classes: the shared ones (read-only but for administrators) and a
    street's own, kept by its staff for its subtree."""

    list_display = ("name", "code", "limit", "region", "is_active")
    list_filter = ("unit", "is_active")
    list_select_related = ("region",)
    search_fields = ("name", "code")
    fields = ("code", "name", "days", "unit", "region", "is_active")

    @admin.display(description=_("limit"), ordering="days")
    def limit(self, obj):
        return obj.limit_label

    def get_queryset(self, request):
        return HandlingLimit.objects.visible_to(request.user)

    def has_module_permission(self, request):
        return can_view(request.user)

    def has_view_permission(self, request, obj=None):
        return can_view(request.user)

    def has_add_permission(self, request):
        return can_keep_shared_lists(request.user)

    def has_change_permission(self, request, obj=None):
        if not can_keep_shared_lists(request.user):
            return False
        if obj is None:
            return True
        return HandlingLimit.objects.kept_by(request.user).filter(pk=obj.pk).exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return ("code", "region") if obj is not None else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if not request.user.is_superuser and "region" in form.base_fields:
            # Street staff keep classes of their own area only.
            form.base_fields["region"].required = True
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["queryset"] = Region.objects.visible_to(request.user).filter(
                level__in=[RegionLevel.DISTRICT, RegionLevel.STREET]
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            saved = services.deadline_class_create(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                days=data["days"],
                unit=data["unit"],
                region=data.get("region"),
            )
            if not data.get("is_active", True):
                saved = services.deadline_class_deactivate(
                    actor=request.user, code=saved.pk
                )
        else:
            saved = _save_with_deactivation(
                obj,
                form,
                fields=("name", "days", "unit", "is_active"),
                update=lambda changes: services.deadline_class_update(
                    actor=request.user, code=obj.pk, **changes
                ),
                deactivate=lambda: services.deadline_class_deactivate(
                    actor=request.user, code=obj.pk
                ),
            )
        obj.pk = saved.pk


# --- working calendar --------------------------------------------------------------


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(
    SharedListAdminMixin, SafeDateHierarchyMixin, admin.ModelAdmin
):
    form = forms.WorkCalendarDayForm
    list_display = ("date", "weekday", "is_workday", "source", "note")
    list_filter = ("is_workday", "source")
    date_hierarchy = "date"
    search_fields = ("note",)
    fields = ("date", "is_workday", "note")

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        # Django's own translated names (星期一…), not strftime's English.
        return WEEKDAYS[obj.date.weekday()]

    def get_readonly_fields(self, request, obj=None):
        return ("date",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        services.work_calendar_set_day(
            actor=request.user,
            date=obj.date,
            is_workday=form.cleaned_data["is_workday"],
            note=form.cleaned_data.get("note", ""),
        )


@admin.register(WorkCalendarYear)
class WorkCalendarYearAdmin(SharedListAdminMixin, admin.ModelAdmin):
    form = forms.WorkCalendarYearForm
    list_display = ("year", "source", "confirmed", "confirmed_by", "confirmed_at")
    actions = ["fill_from_chinese_calendar", "prefill_from_holidays", "confirm"]
    fields = ("year",)

    def get_readonly_fields(self, request, obj=None):
        return ("year",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if not change:
            services.work_calendar_prefill_year(year=obj.year, actor=request.user)

    def _each(self, request, queryset, fn, done_message):
        for year in queryset.values_list("year", flat=True):
            try:
                fn(year)
                self.message_user(request, done_message % {"year": year})
            except DomainError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)

    @admin.action(description=_("Fill from the State Council holiday schedule"))
    def fill_from_chinese_calendar(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda y: services.work_calendar_fill_year(year=y, actor=request.user),
            gettext("%(year)s filled and confirmed."),
        )

    @admin.action(description=_("Pre-fill from statutory holidays (unconfirmed)"))
    def prefill_from_holidays(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda y: services.work_calendar_prefill_year(year=y, actor=request.user),
            gettext("%(year)s pre-filled; enter its make-up workdays, then confirm."),
        )

    @admin.action(description=_("Confirm the year and recompute deadlines"))
    def confirm(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda y: services.work_calendar_confirm_year(actor=request.user, year=y),
            gettext("%(year)s confirmed; provisional deadlines recomputed."),
        )


# --- ticket list filters ----------------------------------------------------------------
# Each list filter hands its parameter to ``TicketFilterSet``: the rule for
# "overdue", "category subtree" and the rest is stated there once.


class TicketFilter(admin.SimpleListFilter):
    """A list filter backed by one filter of ``filters.TicketFilterSet``."""

    def lookups(self, request, model_admin):
        field = TicketFilterSet(actor=request.user).form.fields[self.parameter_name]
        return [(value, label) for value, label in field.choices if value != ""]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return filter_tickets(
            actor=request.user,
            filters={self.parameter_name: self.value()},
            queryset=queryset,
        )


def _filter(name, title):
    return type(
        f"{name.title().replace('_', '')}Filter",
        (TicketFilter,),
        {"parameter_name": name, "title": title, "__module__": __name__},
    )


class RegionSubtreeFilter(TicketFilter):
    title = _("region (with everything under it)")
    parameter_name = "region"

    def lookups(self, request, model_admin):
        regions = region_list(
            actor=request.user,
            levels=[RegionLevel.STREET, RegionLevel.AREA, RegionLevel.COMMUNITY],
        )
        return [(r.pk, f"{'· ' * r.depth}{r.name}") for r in regions[:200]]


class HolderRegionFilter(RegionSubtreeFilter):
    title = _("held at (with everything under it)")
    parameter_name = "holder_region"


class CategorySubtreeFilter(TicketFilter):
    title = _("category")
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [
            (c.pk, f"{'· ' * c.level}{c.name}")
            for c in Category.objects.order_by("tree_id", "lft")
        ]


StageFilter = _filter("stage", _("stage"))
SourceFilter = _filter("source", _("source"))
VerdictFilter = _filter("verdict", _("verdict"))
MineFilter = _filter("mine", _("handled by me"))
ToDispatchByMeFilter = _filter("to_dispatch_by_me", _("to dispatch by me"))
DueTodayFilter = _filter("due_today", _("due today"))
DueSoonFilter = _filter("due_soon", _("due soon (reminded)"))
OverdueFilter = _filter("overdue", _("overdue"))
EscalatedFilter = _filter("escalated", _("escalated"))


# --- tickets -------------------------------------------------------------------------


class BaseTicketAdmin(
    SafeActionSelectionMixin, SensitiveLookupMixin, ServiceErrorMixin, admin.ModelAdmin
):
    list_display = (
        "number_display",
        "description_short",
        "stage",
        "source",
        "category",
        "region",
        "handling_unit_display",
        "handler",
        "deadline_display",
        "escalation_level",
        "verdict",
    )
    list_display_links = ("number_display",)
    list_filter = (
        StageFilter,
        SourceFilter,
        CategorySubtreeFilter,
        RegionSubtreeFilter,
        HolderRegionFilter,
        MineFilter,
        ToDispatchByMeFilter,
        DueTodayFilter,
        DueSoonFilter,
        OverdueFilter,
        EscalatedFilter,
        VerdictFilter,
    )
    # The text search is the FilterSet's (see ``get_search_results``).
    search_fields = ("number",)
    search_help_text = _("Ticket number, 12345 number, content or address.")
    list_select_related = (
        "category__parent",
        "region",
        "handling_region",
        "handling_department",
        "handler",
    )
    list_per_page = 50
    # One capped count (tickets.pagination), not COUNT(*) of the whole scope
    # twice: "1,000+" past the cap.
    paginator = CappedPaginator
    show_full_result_count = False
    actions = ["bulk_dispatch"]
    form = forms.TicketIntakeForm

    def get_queryset(self, request):
        return Ticket.objects.visible_to(request.user)

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return (
            filter_tickets(
                actor=request.user, filters={"q": search_term}, queryset=queryset
            ),
            False,
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not permissions.can_lead(request.user):
            # 派单 is the responsible leader's (supervisors, grid workers: no).
            actions.pop("bulk_dispatch", None)
        return actions

    def has_module_permission(self, request):
        return can_view(request.user)

    def has_view_permission(self, request, obj=None):
        return can_view(request.user)

    def has_add_permission(self, request):
        return permissions.can_create(request.user)

    def has_change_permission(self, request, obj=None):
        return False  # changes happen through the actions on the ticket page

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("number"), ordering="number")
    def number_display(self, obj):
        if obj.hotline_number:
            return f"{obj.display_number} · {obj.hotline_number}"
        return obj.display_number

    @admin.display(description=pgettext_lazy("ticket", "content"))
    def description_short(self, obj):
        return Truncator(obj.description).chars(40)

    @admin.display(description=_("handling unit"))
    def handling_unit_display(self, obj):
        return obj.handling_unit or "—"

    @admin.display(description=_("stage deadline"), ordering="stage_deadline")
    def deadline_display(self, obj):
        if obj.stage_deadline is None:
            return "—"
        _left, overdue = selectors.time_left(obj)
        text = timezone.localtime(obj.stage_deadline).strftime("%Y-%m-%d %H:%M")
        if obj.deadline_provisional:
            text += " *"
        if overdue:
            return format_html('<strong style="color:#ba2121">{}</strong>', text)
        return text

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["queryset"] = Region.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        ticket = services.ticket_create(
            actor=request.user,
            source=data["source"],
            region=data["region"],
            description=data["description"],
            hotline_number=data.get("hotline_number"),
            category=data.get("category"),
            address=data.get("address", ""),
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            reporter_name=data.get("reporter_name", ""),
            reporter_phone=data.get("reporter_phone", ""),
            photos=data.get("photos") or [],
        )
        obj.pk = ticket.pk

    def response_add(self, request, obj, post_url_continue=None):
        return HttpResponseRedirect(
            reverse("admin:tickets_ticket_change", args=[obj.pk])
        )

    # --- the ticket page ----------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:object_id>/action/<str:action>/",
                self.admin_site.admin_view(self.action_view),
                name=f"{info[0]}_{info[1]}_action",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            ticket = selectors.ticket_detail(
                actor=request.user, ticket_id=int(object_id)
            )
        except (DomainError, ValueError):
            self.message_user(
                request,
                gettext("This object does not exist or lies outside your area."),
                level=messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:tickets_ticket_changelist"))
        return self.render_ticket_page(request, ticket)

    def render_ticket_page(self, request, ticket, bound=None):
        user = request.user
        offered = ticket_actions.available(user, ticket)
        action_forms = []
        for spec in offered:
            if bound and bound[0] == spec.action:
                form = bound[1]
            else:
                form = ticket_actions.form_for(
                    spec.action, user=user, ticket=ticket, prefix=spec.action
                )
            action_forms.append(
                {
                    "action": spec.action,
                    "label": spec.label,
                    "form": form,
                    "url": reverse(
                        "admin:tickets_ticket_action", args=[ticket.pk, spec.action]
                    ),
                }
            )
        offered_actions = {spec.action for spec in offered}
        left, overdue = selectors.time_left(ticket)
        duplicates = []
        if Action.MERGE in offered_actions:
            duplicates = services.ticket_likely_duplicates(ticket=ticket)
        evaluation_link = ""
        if (
            ticket.stage == Stage.HANDLED
            and ticket.reporter_phone
            and (Action.EVALUATE in offered_actions)
        ):
            evaluation_link = request.build_absolute_uri(
                services.evaluation_url(ticket=ticket)
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Ticket %(number)s") % {"number": ticket.display_number},
            "ticket": ticket,
            "timeline": selectors.ticket_timeline(ticket=ticket),
            "time_left": left,
            "time_left_hours": round(abs(left.total_seconds()) / 3600, 1)
            if left is not None
            else None,
            "overdue": overdue,
            "action_forms": action_forms,
            "duplicates": duplicates,
            "evaluation_link": evaluation_link,
            "evaluations": list(ticket.evaluations.all()),
            "assessment": getattr(ticket, "assessment", None)
            if ticket.stage == Stage.CLOSED
            else None,
            "verdict_unevaluated": ticket.verdict == Verdict.UNEVALUATED,
            "topic_link": selectors.topic_link(ticket=ticket, user=user),
        }
        return TemplateResponse(request, "admin/tickets/ticket/detail.html", context)

    def action_view(self, request, object_id, action):
        try:
            ticket = selectors.ticket_detail(actor=request.user, ticket_id=object_id)
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(reverse("admin:tickets_ticket_changelist"))
        page = reverse("admin:tickets_ticket_change", args=[ticket.pk])
        if request.method != "POST" or action not in ticket_actions.SPECS:
            return HttpResponseRedirect(page)
        try:
            form, done = ticket_actions.submit(
                action,
                actor=request.user,
                ticket=ticket,
                data=request.POST,
                files=request.FILES,
                prefix=action,
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            form = ticket_actions.form_for(
                action,
                user=request.user,
                ticket=ticket,
                data=request.POST,
                files=request.FILES,
                prefix=action,
            )
            return self.render_ticket_page(request, ticket, bound=(action, form))
        if done is None:
            self.message_user(
                request, gettext("Please correct the errors below."), messages.ERROR
            )
            return self.render_ticket_page(request, ticket, bound=(action, form))
        self.message_user(request, ticket_actions.SPECS[action].success_message)
        return HttpResponseRedirect(page)

    # --- bulk dispatch --------------------------------------------------------------

    @admin.action(description=_("Dispatch the selected tickets"))
    def bulk_dispatch(self, request, queryset):
        if "apply" in request.POST:
            form = forms.DispatchForm(request.POST, user=request.user)
            if form.is_valid():
                done, errors = services.tickets_bulk_dispatch(
                    actor=request.user,
                    ticket_ids=list(queryset.values_list("pk", flat=True)),
                    handling_region=form.cleaned_data.get("handling_region"),
                    handling_department=form.cleaned_data.get("handling_department"),
                    instructions=form.cleaned_data.get("instructions", ""),
                )
                self.message_user(
                    request, gettext("%(count)d tickets dispatched.") % {"count": done}
                )
                for error in errors:
                    self.message_user(request, error, level=messages.ERROR)
                return None
        else:
            form = forms.DispatchForm(user=request.user)
        return render(
            request,
            "admin/tickets/ticket/bulk_dispatch.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": gettext("Dispatch the selected tickets"),
                "form": form,
                "tickets": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(Ticket)
class TicketAdmin(BaseTicketAdmin):
    def get_ordering(self, request):
        # Newest first, in the plan that suits the user's scope and the
        # stage filter (``selectors.newest_first``).
        return selectors.newest_first(request.user, request.GET)


class QueueAdmin(BaseTicketAdmin):
    """A queue page: its rows open the ticket page."""

    list_display = (
        "number_display",
        "description_short",
        "stage",
        "source",
        "category",
        "region",
        "responsible_leader",
        "deadline_display",
    )
    list_select_related = ("category__parent", "region", "responsible_leader")
    # Oldest deadline first (the model's own ordering is newest first).
    ordering = ("stage_deadline", "pk")

    def has_add_permission(self, request):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(
            reverse("admin:tickets_ticket_change", args=[object_id])
        )


@admin.register(TriageQueueTicket)
class TriageQueueAdmin(QueueAdmin):
    """New tickets waiting for 制单/派单, oldest deadline first."""

    list_filter = (
        SourceFilter,
        CategorySubtreeFilter,
        RegionSubtreeFilter,
        OverdueFilter,
    )

    def get_queryset(self, request):
        return (
            Ticket.objects.visible_to(request.user)
            .filter(stage__in=[Stage.RECEIVED, Stage.TRIAGED])
            .order_by("stage_deadline", "pk")
        )


@admin.register(LeaderQueueTicket)
class LeaderQueueAdmin(QueueAdmin):
    """待我派单: triaged tickets whose responsible leader is the user, oldest
    deadline first (the same rule as the list's "to dispatch by me")."""

    list_filter = (SourceFilter, CategorySubtreeFilter, OverdueFilter)

    def get_queryset(self, request):
        return filter_tickets(
            actor=request.user,
            filters={"to_dispatch_by_me": True},
            queryset=Ticket.objects.visible_to(request.user),
        ).order_by("stage_deadline", "pk")

    def has_module_permission(self, request):
        return permissions.can_lead(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.can_lead(request.user)


# Open311 client keys (tickets/open311/admin.py).
from .hotline import admin as hotline_admin  # noqa: E402, F401  (registers its pages)
from .open311 import admin as open311_admin  # noqa: E402, F401
