"""Admin for street and community staff: the Region tree, roster, households.

Every write goes through ``grids.services``; a refused action is shown as the
service's message. Querysets and choices are scoped by ``ScopedAdminMixin``.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from mptt.admin import MPTTModelAdmin

from . import permissions, services
from .admin_mixins import (
    HistoryAdminMixin,
    ReadOnlyMixin,
    SafeActionSelectionMixin,
    ScopedAdminMixin,
    ScopedFormFieldsMixin,
    SensitiveLookupMixin,
    ServiceErrorMixin,
    ServiceImportExportMixin,
    ServiceSaveMixin,
    SharedListAdminMixin,
)
from .choices import RegionLevel, UserRole
from .errors import DomainError
from .masking import age_band
from .models import (
    ApiToken,
    AuditEntry,
    GridAssignment,
    GridWorker,
    Household,
    Notification,
    Patrol,
    PersonalDataAccess,
    Region,
    Resident,
    ResidentTag,
    User,
)
from .pagination import CappedCountAdminMixin
from .params import parse_id
from .querysets import scope_q
from .resources import (
    HouseholdResource,
    PersonalDataAccessResource,
    RegionResource,
    ResidentResource,
    RosterResource,
)

# Strings of Django's admin templates that Django's zh_Hans catalogue lacks,
# shown on these pages (the index's column headings for screen readers, the
# title of a form with errors, the account add page); translated here.
DJANGO_ADMIN_STRINGS = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Error:"),
    gettext_noop(
        "After you’ve created a user, you’ll be able to edit more user options."
    ),
)


class GeoJSONField(forms.JSONField):
    """An empty boundary is an empty box (not the text ``null``) and saves as NULL."""

    def prepare_value(self, value):
        if value is None:
            return ""
        return super().prepare_value(value)


class FullTimeWorkerFilter(admin.SimpleListFilter):
    title = _("full-time worker")
    parameter_name = "full_time"

    def lookups(self, request, model_admin):
        return [("missing", _("Grid without an active full-time worker"))]

    def queryset(self, request, queryset):
        if self.value() == "missing":
            from .selectors import active_full_time_exists

            return queryset.filter(level=RegionLevel.GRID).exclude(
                active_full_time_exists()
            )
        return queryset


class VisibleTagFilter(admin.SimpleListFilter):
    """Special-group tags, only those the user's role may see; a hidden tag's id
    in the query string filters nothing."""

    title = _("special-group tags")
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        from .selectors import visible_tag_queryset

        return [(str(t.pk), t.name) for t in visible_tag_queryset(request.user)]

    def queryset(self, request, queryset):
        from .selectors import visible_tag_queryset

        value = self.value()
        if not value:
            return queryset
        tag_id = parse_id(value)
        if tag_id is None:
            return queryset.none()
        if not visible_tag_queryset(request.user).filter(pk=tag_id).exists():
            return queryset.none()
        return queryset.filter(tags__pk=tag_id)


class GridAssignmentInline(ScopedFormFieldsMixin, admin.TabularInline):
    model = GridAssignment
    fk_name = "grid"
    extra = 0
    fields = ("worker", "role", "started_on", "ended_on")
    autocomplete_fields = ("worker",)

    def has_add_permission(self, request, obj=None):
        return permissions.can_manage_roster(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_roster(request.user)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(
    CappedCountAdminMixin,
    ScopedAdminMixin,
    ServiceErrorMixin,
    ServiceImportExportMixin,
    HistoryAdminMixin,
    MPTTModelAdmin,
):
    resource_classes = [RegionResource]
    job_resource = "regions"
    scope_path = ""
    write_permission = staticmethod(permissions.can_manage_hierarchy)
    mptt_level_indent = 24
    list_display = (
        "name",
        "level",
        "code",
        "households_count",
        "population_count",
        "full_time_worker",
        "is_active",
    )
    list_filter = ("level", "is_active", FullTimeWorkerFilter)
    search_fields = ("name", "code")
    fields = (
        "parent",
        "name",
        "level",
        "code",
        "households_count",
        "population_count",
        ("latitude", "longitude"),
        "boundary",
        "is_active",
    )
    inlines = [GridAssignmentInline]

    def get_queryset(self, request):
        from .selectors import active_full_time_exists

        return (
            super()
            .get_queryset(request)
            .annotate(_has_full_time=active_full_time_exists())
        )

    @admin.display(description=_("full-time worker"), boolean=True)
    def full_time_worker(self, obj):
        # Flag only where a full-time worker is expected: on grids.
        return obj._has_full_time if obj.level == RegionLevel.GRID else None

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None and obj.is_grid else []

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "boundary":
            kwargs["form_class"] = GeoJSONField
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ("level",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        data = {
            f: form.cleaned_data.get(f)
            for f in services.REGION_EDITABLE_FIELDS
            if f in form.cleaned_data
        }
        if not change:
            created = services.region_create(
                actor=request.user,
                parent=form.cleaned_data.get("parent"),
                level=obj.level,
                **data,
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        original_parent_id = (
            Region.objects.filter(pk=obj.pk).values_list("parent_id", flat=True).first()
        )
        new_parent = form.cleaned_data.get("parent")
        if new_parent is not None and new_parent.pk != original_parent_id:
            services.region_move(
                actor=request.user, region_id=obj.pk, new_parent_id=new_parent.pk
            )
        changed = {
            f: v for f, v in data.items() if f in form.changed_data and f != "code"
        }
        if "code" in form.changed_data:
            changed["code"] = data.get("code")
        if changed:
            services.region_update(actor=request.user, region_id=obj.pk, **changed)
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is not GridAssignment:
            return super().save_formset(request, form, formset, change)
        created, ended = [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or not inline_form.cleaned_data:
                continue
            data = inline_form.cleaned_data
            instance = inline_form.instance
            if instance.pk is None:
                stint = services.assignment_start(
                    actor=request.user,
                    worker=data["worker"],
                    grid=form.instance,
                    role=data["role"],
                    started_on=data["started_on"],
                )
                if data.get("ended_on"):
                    stint = services.assignment_end(
                        actor=request.user,
                        assignment_id=stint.pk,
                        ended_on=data["ended_on"],
                    )
                created.append(stint)
                continue
            _refuse_stint_rewrite(inline_form.changed_data, data.get("ended_on"))
            if "ended_on" in inline_form.changed_data:
                ended.append(
                    services.assignment_end(
                        actor=request.user,
                        assignment_id=instance.pk,
                        ended_on=data["ended_on"],
                    )
                )
        # What the admin's change message reads (formset.save() is not called).
        formset.new_objects = created
        formset.changed_objects = [(stint, ["ended_on"]) for stint in ended]
        formset.deleted_objects = []


def _refuse_stint_rewrite(changed_fields, ended_on) -> None:
    """A stint's history is kept: only its end date may be set, once."""
    if set(changed_fields) - {"ended_on"}:
        raise DomainError(
            _(
                "Only the end date of an existing stint can be changed; "
                "end it and start a new one."
            )
        )
    if "ended_on" in changed_fields and not ended_on:
        raise DomainError(_("An ended stint cannot be reopened; start a new one."))


@admin.register(User)
class StaffUserAdmin(
    SafeActionSelectionMixin,
    ScopedFormFieldsMixin,
    SensitiveLookupMixin,
    ServiceErrorMixin,
    HistoryAdminMixin,
    DjangoUserAdmin,
):
    """Administrators see every account with Django's full form; street staff
    open, change and close the accounts of their own street, through the services,
    with the roles they may grant."""

    list_display = (
        "username",
        "last_name",
        "first_name",
        "role",
        "region",
        "is_active",
    )
    list_filter = ("role", "is_active", "is_staff")
    list_select_related = ("region",)
    search_fields = ("username", "first_name", "last_name")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Gridwork"), {"fields": ("role", "region", "phone")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Gridwork"), {"fields": ("role", "region")}),
    )
    street_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("last_name", "first_name", "phone")}),
        (_("Gridwork"), {"fields": ("role", "region", "is_active")}),
    )
    street_add_fieldsets = (
        (None, {"fields": ("username", "password1", "password2")}),
        (_("Personal info"), {"fields": ("last_name", "first_name", "phone")}),
        (_("Gridwork"), {"fields": ("role", "region")}),
    )
    autocomplete_fields = ("region",)
    actions = ("unlock_login",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(scope_q(request.user, "region"), is_superuser=False)

    @admin.action(description=_("Unlock the login (after too many wrong passwords)"))
    def unlock_login(self, request, queryset):
        lifted = 0
        for user in queryset:
            lifted += services.staff_account_unlock(actor=request.user, user_id=user.pk)
        self.message_user(
            request,
            _("%(accounts)d account(s) unlocked, %(locks)d lock(s) lifted.")
            % {"accounts": len(queryset), "locks": lifted},
        )

    def has_module_permission(self, request):
        return permissions.can_manage_accounts(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.can_manage_accounts(request.user)

    def has_add_permission(self, request):
        return permissions.can_manage_accounts(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_accounts(request.user)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser  # others close an account instead

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.street_fieldsets if obj else self.street_add_fieldsets

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "role" in form.base_fields:
            grantable = permissions.roles_grantable_by(request.user)
            form.base_fields["role"].choices = [
                (value, label)
                for value, label in UserRole.choices
                if value in grantable
            ]
            form.base_fields["role"].required = True
        if "region" in form.base_fields:
            form.base_fields["region"].required = True
        return form

    def save_model(self, request, obj, form, change):
        if request.user.is_superuser:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        common = {
            "role": data["role"],
            "region": data["region"],
            "last_name": data.get("last_name", ""),
            "first_name": data.get("first_name", ""),
            "phone": data.get("phone", ""),
        }
        if change:
            services.staff_account_update(
                actor=request.user,
                user_id=obj.pk,
                is_active=data.get("is_active", obj.is_active),
                **common,
            )
        else:
            obj.pk = services.staff_account_create(
                actor=request.user,
                username=data["username"],
                password=data["password1"],
                **common,
            ).pk


class GridWorkerForm(forms.ModelForm):
    """The phone is checked by the roster service's rule, which says nothing about
    workers outside the user's area (not Django's "already exists")."""

    actor = None

    def clean_phone(self):
        phone = self.cleaned_data.get("phone", "")
        problem = services.grid_worker_phone_problem(
            actor=self.actor, phone=phone, worker_id=self.instance.pk
        )
        if problem is not None:
            raise forms.ValidationError(problem)
        return phone

    def validate_unique(self):
        pass  # a taken phone is answered by clean_phone or the service


@admin.register(GridWorker)
class GridWorkerAdmin(
    ScopedAdminMixin, ServiceErrorMixin, HistoryAdminMixin, admin.ModelAdmin
):
    scope_path = ""
    list_display = ("name", "masked_phone", "is_party_member", "active_grids")
    list_filter = ("is_party_member",)
    search_fields = ("name",)  # not the phone: see SensitiveLookupMixin
    ordering = ("name", "pk")

    form = GridWorkerForm

    def get_queryset(self, request):
        # Workers put on the roster in the user's area or serving (or having
        # served) a grid in it: GridWorker.objects.visible_to.
        return (
            GridWorker.objects.visible_to(request.user)
            .prefetch_related(
                Prefetch(
                    "assignments",
                    queryset=GridAssignment.objects.current().select_related("grid"),
                    to_attr="current_stints",
                )
            )
            .order_by(*self.ordering)
        )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user
        return form

    def get_fields(self, request, obj=None):
        if permissions.can_manage_roster(request.user):
            fields = ["name", "phone", "is_party_member"]
            return [*fields, "user"] if request.user.is_superuser else fields
        return ["name", "masked_phone", "is_party_member"]

    def get_readonly_fields(self, request, obj=None):
        if permissions.can_manage_roster(request.user):
            return ()
        return ("name", "masked_phone", "is_party_member")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.grid_worker_update(
                actor=request.user,
                worker_id=obj.pk,
                name=data["name"],
                phone=data["phone"],
                is_party_member=data["is_party_member"],
                user=data.get("user"),
            )
        else:
            obj.pk = services.grid_worker_upsert(
                actor=request.user,
                name=data["name"],
                phone=data["phone"],
                is_party_member=data["is_party_member"],
                user=data.get("user"),
            ).pk

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return obj.masked_phone

    @admin.display(description=_("grids served now"))
    def active_grids(self, obj):
        return ", ".join(stint.grid.name for stint in obj.current_stints)


@admin.register(GridAssignment)
class GridAssignmentAdmin(
    CappedCountAdminMixin,
    ScopedAdminMixin,
    ServiceErrorMixin,
    ServiceImportExportMixin,
    HistoryAdminMixin,
    admin.ModelAdmin,
):
    resource_classes = [RosterResource]
    job_resource = "roster"
    scope_path = "grid"
    list_display = ("worker", "grid", "role", "started_on", "ended_on")
    list_filter = ("role", ("ended_on", admin.EmptyFieldListFilter))
    search_fields = ("worker__name", "grid__name", "grid__code")
    autocomplete_fields = ("worker", "grid")
    list_select_related = ("worker", "grid")

    def get_readonly_fields(self, request, obj=None):
        return ("worker", "grid", "role", "started_on") if obj else ()

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.assignment_start(
                actor=request.user,
                worker=obj.worker,
                grid=obj.grid,
                role=obj.role,
                started_on=obj.started_on,
            )
            obj.pk = created.pk
        else:
            _refuse_stint_rewrite(form.changed_data, obj.ended_on)
            if "ended_on" in form.changed_data:
                services.assignment_end(
                    actor=request.user, assignment_id=obj.pk, ended_on=obj.ended_on
                )


class ResidentInline(admin.TabularInline):
    model = Resident
    extra = 0
    fields = (
        "name",
        "masked_id",
        "relationship",
        "residence_type",
        "masked_phone_display",
    )
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("ID-card number"))
    def masked_id(self, obj):
        return obj.masked_id_number

    @admin.display(description=_("phone"))
    def masked_phone_display(self, obj):
        return obj.masked_phone


@admin.register(Household)
class HouseholdAdmin(
    CappedCountAdminMixin,
    ScopedAdminMixin,
    ServiceErrorMixin,
    ServiceSaveMixin,
    ServiceImportExportMixin,
    HistoryAdminMixin,
    admin.ModelAdmin,
):
    resource_classes = [HouseholdResource]
    job_resource = "households"
    service_fields = services.HOUSEHOLD_EDITABLE_FIELDS
    write_permission = staticmethod(permissions.can_manage_households)
    # The count is a column kept by the services: a page reads 100 rows, it
    # does not count residents over the whole scope.
    list_display = ("address", "region", "household_number", "resident_count")
    list_select_related = ("region",)
    search_fields = ("address", "household_number")
    autocomplete_fields = ("region",)
    inlines = [ResidentInline]

    def service_create(self, request, fields):
        return services.household_create(actor=request.user, **fields)

    def service_update(self, request, obj, changed):
        return services.household_update(
            actor=request.user, household_id=obj.pk, **changed
        )


class ResidentChangeForm(forms.ModelForm):
    """A resident's page: the ID-card number and phone are shown masked (never
    whole in the page), and replaced by typing a new value; empty keeps it."""

    new_id_number = forms.CharField(
        label=_("new ID-card number"),
        required=False,
        max_length=18,
        help_text=_("Leave empty to keep the number on file."),
    )
    new_phone = forms.CharField(
        label=_("new phone"),
        required=False,
        max_length=20,
        help_text=_("Leave empty to keep the phone on file."),
    )
    clear_phone = forms.BooleanField(label=_("remove the phone"), required=False)

    class Meta:
        model = Resident
        fields = (
            "household",
            "name",
            "relationship",
            "residence_type",
            "tags",
            "is_active",
        )


class RevealForm(forms.Form):
    """What to show of a resident, and why (written to the access log)."""

    fields = forms.MultipleChoiceField(
        label=_("show"),
        choices=(("id_number", _("ID-card number")), ("phone", _("phone"))),
        widget=forms.CheckboxSelectMultiple,
        initial=["id_number"],
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why you need the whole value; it is logged with your name."),
    )


@admin.register(Resident)
class ResidentAdmin(
    CappedCountAdminMixin,
    ScopedAdminMixin,
    ServiceErrorMixin,
    ServiceImportExportMixin,
    HistoryAdminMixin,
    admin.ModelAdmin,
):
    resource_classes = [ResidentResource]
    job_resource = "residents"
    scope_path = "household__region"
    write_permission = staticmethod(permissions.can_manage_households)
    list_display = (
        "name",
        "masked_id",
        "age_group",
        "masked_phone_display",
        "household",
        "residence_type",
    )
    # Not gender or birth date: they are digits of the ID-card number.
    list_filter = ("residence_type", "relationship", VisibleTagFilter)

    def lookup_allowed(self, lookup, value, request=None):
        # Tags are filtered only through VisibleTagFilter (?tag=), which knows
        # which tags the user's role may see.
        if lookup.split("__")[0] == "tags":
            return False
        return super().lookup_allowed(lookup, value, request)

    list_select_related = ("household",)
    search_fields = ("name", "household__address")
    autocomplete_fields = ("household",)
    # The add page takes the number and phone; a resident's page shows them
    # masked (with 显示 for the roles that may) and takes replacements.
    fields = (
        "household",
        "name",
        "id_number",
        "phone",
        "relationship",
        "residence_type",
        "tags",
        "is_active",
    )
    change_fields = (
        "household",
        "name",
        "masked_id",
        "new_id_number",
        "masked_phone_display",
        "new_phone",
        "clear_phone",
        "relationship",
        "residence_type",
        "tags",
        "is_active",
    )

    @admin.display(description=_("ID-card number"))
    def masked_id(self, obj):
        return obj.masked_id_number

    @admin.display(description=_("phone"))
    def masked_phone_display(self, obj):
        return obj.masked_phone

    @admin.display(description=_("ID-card number"))
    def masked_id_with_reveal(self, obj):
        return self._with_reveal_link(obj, obj.masked_id_number, "id_number")

    @admin.display(description=_("phone"))
    def masked_phone_with_reveal(self, obj):
        return self._with_reveal_link(obj, obj.masked_phone, "phone")

    def _with_reveal_link(self, obj, masked, field):
        if not masked:
            return masked
        return format_html(
            '{} <a class="button" href="{}?field={}">{}</a>',
            masked,
            reverse("admin:grids_resident_reveal", args=[obj.pk]),
            field,
            pgettext_lazy("personal data", "Show"),
        )

    @admin.display(description=_("age"))
    def age_group(self, obj):
        return age_band(obj.birth_date, timezone.localdate())

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            kwargs["form"] = ResidentChangeForm
        form = super().get_form(request, obj, **kwargs)
        if "tags" in form.base_fields:
            from .selectors import tag_choices

            form.base_fields["tags"].queryset = tag_choices(request.user, obj)
        return form

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(self.fields)
        fields = list(self.change_fields)
        if permissions.can_reveal_personal_data(request.user):
            with_link = {
                "masked_id": "masked_id_with_reveal",
                "masked_phone_display": "masked_phone_with_reveal",
            }
            fields = [with_link.get(f, f) for f in fields]
        if not self.has_change_permission(request, obj):
            fields = [
                f
                for f in fields
                if f not in ("new_id_number", "new_phone", "clear_phone")
            ]
        return fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return (
                "masked_id",
                "masked_phone_display",
                "masked_id_with_reveal",
                "masked_phone_with_reveal",
            )
        return ()

    def save_model(self, request, obj, form, change):
        if change:
            data = {
                f: form.cleaned_data[f]
                for f in ResidentChangeForm.Meta.fields
                if f in form.cleaned_data
            }
            new_id_number = (form.cleaned_data.get("new_id_number") or "").strip()
            if new_id_number:
                data["id_number"] = new_id_number
            new_phone = (form.cleaned_data.get("new_phone") or "").strip()
            if new_phone:
                data["phone"] = new_phone
            elif form.cleaned_data.get("clear_phone"):
                data["phone"] = ""
            tags = list(data.pop("tags", []))
            services.resident_update(
                actor=request.user, resident_id=obj.pk, tags=tags, **data
            )
        else:
            data = {
                f: form.cleaned_data[f] for f in self.fields if f in form.cleaned_data
            }
            tags = list(data.pop("tags", []))
            data.pop("is_active", None)
            obj.pk = services.resident_create(actor=request.user, tags=tags, **data).pk

    def save_related(self, request, form, formsets, change):
        # Tags were saved by the service (it keeps tags the user cannot see).
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/reveal/",
                self.admin_site.admin_view(self.reveal_view),
                name="grids_resident_reveal",
            ),
            *super().get_urls(),
        ]

    @method_decorator(never_cache)
    def reveal_view(self, request, object_id):
        """显示: the whole ID-card number or phone of one resident, once, after a
        POST with a reason; the service checks scope and role and logs it. A GET
        shows only the form."""
        resident_id = parse_id(object_id)
        if resident_id is None or not self.has_view_permission(request):
            raise Http404
        resident, may_reveal = selectors_resident_detail(request.user, resident_id)
        if not may_reveal:
            raise PermissionDenied
        chosen = request.GET.get("field")
        form = RevealForm(
            request.POST or None,
            initial={"fields": [chosen]}
            if chosen in services.REVEALABLE_FIELDS
            else {},
        )
        shown = None
        if request.method == "POST" and form.is_valid():
            try:
                values = services.personal_data_reveal(
                    actor=request.user,
                    resident_id=resident.pk,
                    fields=form.cleaned_data["fields"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                labels = dict(form.fields["fields"].choices)
                shown = [(labels[f], value) for f, value in values.items()]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Show personal data"),
            "subtitle": str(resident),
            "opts": self.opts,
            "original": resident,
            "form": form,
            "shown": shown,
            "change_url": reverse("admin:grids_resident_change", args=[resident.pk]),
        }
        response = TemplateResponse(
            request, "admin/grids/resident/reveal.html", context
        )
        response["Cache-Control"] = "no-store, private"
        return response


def selectors_resident_detail(user, resident_id):
    """The resident in the user's area (else 404) and whether they may reveal."""
    from .selectors import resident_detail

    try:
        return resident_detail(actor=user, resident_id=resident_id)
    except DomainError:
        raise Http404 from None


class ResidentTagForm(forms.ModelForm):
    """Roles picked from the list by their Chinese names, not typed as JSON."""

    visible_to_roles = forms.MultipleChoiceField(
        label=_("visible to roles"),
        choices=UserRole.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Roles that may see this tag; empty means every role."),
    )

    class Meta:
        model = ResidentTag
        fields = ("name", "code", "description", "visible_to_roles", "is_active")


@admin.register(ResidentTag)
class ResidentTagAdmin(
    SharedListAdminMixin, ServiceErrorMixin, ServiceSaveMixin, admin.ModelAdmin
):
    """Street staff keep the tags through the services (validated, audited)."""

    form = ResidentTagForm
    service_fields = ResidentTagForm.Meta.fields
    list_display = ("name", "description", "visible_roles", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code", "description")

    def get_queryset(self, request):
        from .selectors import visible_tag_queryset

        # Those who keep the list see all of it; others, the tags of their role.
        if permissions.can_keep_shared_lists(request.user):
            return super().get_queryset(request)
        return visible_tag_queryset(request.user)

    @admin.display(description=_("visible to roles"))
    def visible_roles(self, obj):
        if not obj.visible_to_roles:
            return _("every role")
        labels = dict(UserRole.choices)
        return "、".join(str(labels.get(r, r)) for r in obj.visible_to_roles)

    def service_create(self, request, fields):
        return services.resident_tag_create(actor=request.user, **fields)

    def service_update(self, request, obj, changed):
        return services.resident_tag_update(
            actor=request.user, tag_id=obj.pk, **changed
        )


@admin.register(Patrol)
class PatrolAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    # Recorded from the phone pages through patrol_record; read here.
    list_display = ("occurred_at", "kind", "region", "worker", "household")
    list_filter = ("kind", "occurred_at")
    list_select_related = ("region", "worker", "household")
    search_fields = ("notes", "region__name")
    date_hierarchy = "occurred_at"


@admin.register(Notification)
class NotificationAdmin(SafeActionSelectionMixin, admin.ModelAdmin):
    """The user's own inbox. A message is opened by a POST to ``…/open/`` (the
    title's button), which marks it read and goes to its link; viewing a message
    changes nothing."""

    list_display = ("open_title", "created_at", "read_at", "channel")
    list_display_links = ("created_at",)
    list_filter = (("read_at", admin.EmptyFieldListFilter), "channel")
    readonly_fields = ("title", "body", "open_link", "channel", "created_at", "read_at")
    fields = readonly_fields
    actions = ["mark_read"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(recipient=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<path:object_id>/open/",
                self.admin_site.admin_view(self.open_view),
                name="grids_notification_open",
            ),
            *super().get_urls(),
        ]

    @method_decorator(require_POST)
    def open_view(self, request, object_id):
        from .notifications import notification_open

        notification_id = parse_id(object_id)
        target = (
            notification_open(user=request.user, notification_id=notification_id)
            if notification_id is not None and self.has_view_permission(request)
            else None
        )
        if target is None:
            raise Http404
        return HttpResponseRedirect(
            target or reverse("admin:grids_notification_change", args=[notification_id])
        )

    def _open_button(self, obj, label):
        # Inside the page's own POST form (changelist or change form), which
        # carries the CSRF token; format_html escapes the title.
        return format_html(
            '<button type="submit" formaction="{}" formmethod="post" '
            'formnovalidate class="inbox-open" style="background:none;border:0;'
            "padding:0;font:inherit;color:var(--link-fg);cursor:pointer;"
            'text-align:start">{}</button>',
            reverse("admin:grids_notification_open", args=[obj.pk]),
            label,
        )

    @admin.display(description=_("title"), ordering="title")
    def open_title(self, obj):
        return self._open_button(obj, obj.title)

    @admin.display(description=_("link"))
    def open_link(self, obj):
        from .notifications import is_site_link

        if not is_site_link(obj.url):
            return "-"
        return self._open_button(obj, pgettext_lazy("notification", "Open"))

    @admin.action(description=_("Mark as read"))
    def mark_read(self, request, queryset):
        from .notifications import notifications_mark_read

        count = notifications_mark_read(
            user=request.user,
            notification_ids=list(queryset.values_list("pk", flat=True)),
        )
        self.message_user(request, _("%(count)d marked as read.") % {"count": count})

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


def _shown(value) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, list):
        return "、".join(map(str, value)) or "-"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    return str(value)


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(
    ReadOnlyMixin, ScopedAdminMixin, ServiceImportExportMixin, admin.ModelAdmin
):
    """The access log of personal data (个人信息访问记录): each 显示 and each
    unmasked or large export. Street staff read and export their street's."""

    resource_classes = [PersonalDataAccessResource]
    list_display = (
        "at",
        "actor",
        "kind",
        "object_repr",
        "fields_shown",
        "unmasked",
        "row_count",
        "reason",
    )
    list_filter = ("kind", "unmasked")
    list_select_related = ("actor",)
    search_fields = ("object_repr", "reason", "actor__username")
    date_hierarchy = "at"
    readonly_fields = (
        "at",
        "actor",
        "kind",
        "content_type",
        "object_id",
        "object_repr",
        "region",
        "fields_shown",
        "unmasked",
        "row_count",
        "reason",
    )
    fields = readonly_fields

    @admin.display(description=_("fields"))
    def fields_shown(self, obj):
        return ", ".join(_personal_field_label(f) for f in obj.fields)

    def has_module_permission(self, request):
        return permissions.can_read_personal_data_log(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.can_read_personal_data_log(request.user)

    def has_import_permission(self, request):
        return False

    def has_export_permission(self, request):
        return permissions.can_read_personal_data_log(request.user)


def _personal_field_label(name: str) -> str:
    try:
        return str(Resident._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Changes of the reference data, as the services wrote them; street staff and
    administrators read it."""

    list_display = ("at", "actor", "content_type", "object_repr", "action")
    list_filter = ("action", "content_type")
    list_select_related = ("actor", "content_type")
    search_fields = ("object_repr",)
    readonly_fields = (
        "at",
        "actor",
        "content_type",
        "object_id",
        "object_repr",
        "region",
        "action",
        "changes_by_field",
    )
    fields = readonly_fields

    @admin.display(description=_("changes"))
    def changes_by_field(self, obj):
        """One line per field, under its Chinese name: old → new."""
        model = obj.content_type.model_class() if obj.content_type_id else None
        lines = []
        for name, (old, new) in sorted(obj.changes.items()):
            try:
                label = model._meta.get_field(name).verbose_name if model else name
            except FieldDoesNotExist:
                label = name
            lines.append(format_html("{}：{} → {}", label, _shown(old), _shown(new)))
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines))

    def get_queryset(self, request):
        # Entries of shared lists, and of records inside the user's area; never
        # another street's departments, prizes or classes.
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(Q(region__isnull=True) | scope_q(request.user, "region"))

    def has_module_permission(self, request):
        return permissions.can_keep_shared_lists(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.can_keep_shared_lists(request.user)


from . import admin_jobs  # noqa: E402,F401  (background import/export jobs)


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "name", "expires_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "expires_at" in self.fields:  # the add form (a token is never edited)
            self.fields["expires_at"].required = False
            self.fields["expires_at"].help_text = _(
                "Empty: the default validity from today (API_TOKEN_DEFAULT_DAYS)."
            )


@admin.register(ApiToken)
class ApiTokenAdmin(SafeActionSelectionMixin, ServiceErrorMixin, admin.ModelAdmin):
    """API tokens of the accounts the user keeps: made here (the key shown once,
    on the page after saving) and revoked by the action; never edited. Through
    ``grids.services.api_tokens``."""

    form = ApiTokenForm
    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username")
    actions = ["revoke"]
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "created_at",
        "created_by",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )

    def _may_manage(self, request) -> bool:
        user = request.user
        return user.is_active and (
            user.is_superuser or permissions.can_manage_accounts(user)
        )

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(scope_q(request.user, "user__region"))
        )

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ApiTokenForm.Meta.fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            actor = request.user
            accounts = User.objects.filter(is_active=True)
            if not actor.is_superuser:
                accounts = accounts.filter(
                    scope_q(actor, "region"),
                    is_superuser=False,
                    role__in=permissions.roles_grantable_by(actor),
                )
            kwargs["queryset"] = accounts.select_related("region")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return self._may_manage(request)

    def has_view_permission(self, request, obj=None):
        return self._may_manage(request)

    def has_add_permission(self, request):
        return self._may_manage(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        token, key = services.api_token_create(
            actor=request.user,
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data.get("expires_at"),
        )
        obj.pk = token.pk
        request._api_token_created = (token, key)

    def response_add(self, request, obj, post_url_continue=None):
        token, key = request._api_token_created
        response = TemplateResponse(
            request,
            "admin/grids/apitoken/created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("API token made"),
                "token": token,
                "key": key,
            },
        )
        # The key is on this page only: never kept by a browser or a proxy.
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        revoked = 0
        for token_id in queryset.values_list("pk", flat=True):
            try:
                services.api_token_revoke(actor=request.user, token_id=token_id)
            except DomainError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
                return
            revoked += 1
        self.message_user(request, _("%(count)d tokens revoked.") % {"count": revoked})
