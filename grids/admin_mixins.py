"""Admin scoping shared by every app: a ModelAdmin that mixes this in shows and
edits only rows inside the user's Region subtree, and lets the role rules of
``grids.permissions`` decide what the user may do.

Set ``scope_path`` to the lookup from the model to its Region (``"region"``,
``"household__region"``; ``""`` for Region itself) and ``write_permission`` to
the app's rule (a function of the user, from its ``permissions`` module) for who
may add or change rows, so the admin and the services agree. Deleting is off
unless ``allow_delete``.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import helpers, widgets
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import display_for_field, unquote
from django.core.exceptions import (
    MultipleObjectsReturned,
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db.models import F
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import re_path
from django.utils.translation import gettext, gettext_lazy, pgettext
from import_export.admin import ImportExportMixin
from import_export.forms import SelectableFieldsExportForm
from simple_history.admin import SimpleHistoryAdmin

from . import permissions
from .errors import DomainError
from .masking import is_sensitive_path
from .querysets import scope_q

_DATE_PART_RANGES = {"year": (1900, 2999), "month": (1, 12), "day": (1, 31)}


class SafeDateHierarchyMixin:
    def get_changelist_instance(self, request):
        """Refuse a malformed ``<date_hierarchy>__year/month/day`` like any other
        bad filter (the admin redirects with ``?e=1``) instead of a 500."""
        if self.date_hierarchy:
            for part, (low, high) in _DATE_PART_RANGES.items():
                raw = request.GET.get(f"{self.date_hierarchy}__{part}")
                if raw is None:
                    continue
                if not (raw.isascii() and raw.isdigit() and len(raw) <= 4):
                    raise IncorrectLookupParameters(raw)
                if not low <= int(raw) <= high:
                    raise IncorrectLookupParameters(raw)
        return super().get_changelist_instance(request)


def _expression_paths(expression) -> list[str]:
    """The field paths an ordering (a string, ``F``, ``OrderBy``, ``Lower(…)``)
    reads."""
    if isinstance(expression, str):
        return [expression]
    if isinstance(expression, F):
        return [expression.name]
    paths = []
    for source in getattr(expression, "get_source_expressions", list)():
        paths.extend(_expression_paths(source))
    return paths


def _reads_sensitive(model, expression) -> bool:
    return any(is_sensitive_path(model, p) for p in _expression_paths(expression))


def _list_filter_path(item):
    if isinstance(item, str):
        return item
    if isinstance(item, (tuple, list)) and item and isinstance(item[0], str):
        return item[0]
    return None  # a SimpleListFilter decides for itself


_changelists_without_sensitive_order = {}


def _changelist_without_sensitive_order(base):
    """``base`` (Django's ChangeList or a subclass) whose ``?o=`` ignores a column
    that sorts by personal data: the order of birth dates is a birth date."""
    if base not in _changelists_without_sensitive_order:

        class SensitiveOrderChangeList(base):
            def get_ordering_field(self, field_name):
                order_field = super().get_ordering_field(field_name)
                if order_field is not None and _reads_sensitive(
                    self.model, order_field
                ):
                    return None
                return order_field

        _changelists_without_sensitive_order[base] = SensitiveOrderChangeList
    return _changelists_without_sensitive_order[base]


class SensitiveLookupMixin:
    """Personal data (``grids.masking.is_sensitive_path``: the ID-card number, the
    birth date and gender derived from it, phones), on this model or reached
    through any relation, is never a changelist filter (``?birth_date__year=``,
    ``?resident__id_number__startswith=``: refused with a 400), a list filter, a
    search field or a sort key. Otherwise a user who sees "3713**********1234"
    could rebuild the number a few digits at a time."""

    def lookup_allowed(self, lookup, value, request=None):
        if is_sensitive_path(self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_list_filter(self, request):
        return [
            item
            for item in super().get_list_filter(request)
            if not is_sensitive_path(self.model, _list_filter_path(item) or "")
        ]

    def get_search_fields(self, request):
        return [
            field
            for field in super().get_search_fields(request)
            if not is_sensitive_path(self.model, field)
        ]

    def get_ordering(self, request):
        return [
            item
            for item in super().get_ordering(request) or ()
            if not _reads_sensitive(self.model, item)
        ]

    def get_changelist(self, request, **kwargs):
        return _changelist_without_sensitive_order(
            super().get_changelist(request, **kwargs)
        )


OUTSIDE_YOUR_AREA = gettext_lazy(
    "This object does not exist or lies outside your area."
)


def scoped_choices(related_model, request, admin_site):
    """The rows of ``related_model`` the user may pick or see named in a form: its
    ``visible_to(user)`` when it has one, else what its own admin lists (scoped
    admins, the user's own accounts, …); None for a model without an admin."""
    manager = related_model._default_manager
    if hasattr(manager, "visible_to"):
        return manager.visible_to(request.user)
    related_admin = admin_site._registry.get(related_model)
    if related_admin is not None:
        return related_admin.get_queryset(request)
    return None


def _valid_keys(to_field, values):
    """The values that can be a key of ``to_field`` ("abc" cannot be an id)."""
    valid = []
    for value in values:
        try:
            to_field.to_python(value)
        except (ValidationError, TypeError, ValueError):
            continue
        valid.append(value)
    return valid


class ScopedRawIdWidget(widgets.ForeignKeyRawIdWidget):
    """A raw-id box that names (and links) the chosen row only when it lies in
    ``queryset``, the user's scope: another street's resident id shows nothing."""

    def __init__(self, rel, admin_site, *, queryset, **kwargs):
        self.queryset = queryset
        super().__init__(rel, admin_site, **kwargs)

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field().name
        try:
            self.queryset.using(self.db).get(**{key: value})
        except (ValueError, TypeError, ValidationError, ObjectDoesNotExist):
            return "", ""
        except MultipleObjectsReturned:  # a joined scope repeats the row
            pass
        return super().label_and_url_for_value(value)


class SafeAutocompleteMixin:
    """An autocomplete box re-rendered with a value that is not a key ("abc",
    from a hand-made POST or query string) shows nothing instead of a 500; the
    field says the choice is invalid."""

    def optgroups(self, name, value, attr=None):
        to_field = self.field.remote_field.get_related_field()
        return super().optgroups(name, _valid_keys(to_field, value), attr)


class SafeAutocompleteSelect(SafeAutocompleteMixin, widgets.AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(
    SafeAutocompleteMixin, widgets.AutocompleteSelectMultiple
):
    pass


class ScopedFormFieldsMixin:
    """Foreign keys in a form (select, raw-id or autocomplete, in a ModelAdmin or
    an inline) offer, name and accept only rows in the user's scope
    (``scoped_choices``); a row outside it, or an id that is no id, is a form
    error, never a label, a link or a 500."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        db = kwargs.get("using")
        if "queryset" not in kwargs:
            queryset = scoped_choices(db_field.related_model, request, self.admin_site)
            if queryset is not None:
                kwargs["queryset"] = queryset
        queryset = kwargs.get("queryset")
        if "widget" not in kwargs:
            if db_field.name in self.get_autocomplete_fields(request):
                kwargs["widget"] = SafeAutocompleteSelect(
                    db_field, self.admin_site, using=db
                )
            elif db_field.name in self.raw_id_fields:
                kwargs["widget"] = ScopedRawIdWidget(
                    db_field.remote_field,
                    self.admin_site,
                    queryset=queryset
                    if queryset is not None
                    else db_field.related_model._default_manager.all(),
                    using=db,
                )
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None:
            field.error_messages["invalid_choice"] = OUTSIDE_YOUR_AREA
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        db = kwargs.get("using")
        if "queryset" not in kwargs:
            queryset = scoped_choices(db_field.related_model, request, self.admin_site)
            if queryset is not None:
                kwargs["queryset"] = queryset
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(
            request
        ):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(
                db_field, self.admin_site, using=db
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class SafeActionSelectionMixin:
    """Django's admin filters the selected rows with ``pk__in=<posted values>``: a
    value that is no key (``_selected_action=abc``, an empty one, a NUL byte)
    raised in the query, a 500. The posted ids are checked against the primary
    key first and a bad selection is an error message. Every shared admin mixin
    below includes it; an admin built on none of them mixes it in itself
    (tests/security/test_admin_actions.py walks every registered admin)."""

    def response_action(self, request, queryset):
        pk = self.model._meta.pk
        for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
            try:
                if pk.to_python(value) is None or "\x00" in str(value):
                    raise ValidationError("empty")
            except ValidationError:
                self.message_user(
                    request,
                    gettext("The selection was not valid. No items have been changed."),
                    level=messages.ERROR,
                )
                return None
        return super().response_action(request, queryset)


class ScopedAdminMixin(
    SafeActionSelectionMixin,
    ScopedFormFieldsMixin,
    SensitiveLookupMixin,
    SafeDateHierarchyMixin,
):
    scope_path = "region"
    write_permission = staticmethod(permissions.is_area_staff)
    allow_delete = False

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(scope_q(request.user, self.scope_path))
        )

    def _may_write(self, request) -> bool:
        return permissions.can_view(request.user) and self.write_permission(
            request.user
        )

    def has_module_permission(self, request):
        return permissions.can_view(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.can_view(request.user)

    def has_add_permission(self, request, *args):
        return self._may_write(request)

    def has_change_permission(self, request, obj=None):
        return self._may_write(request)

    def has_delete_permission(self, request, obj=None):
        return self.allow_delete and self._may_write(request)


class PersonalDataExportForm(SelectableFieldsExportForm):
    """The export form of a resource with personal data: masked unless asked,
    and a reason (required for unmasked or large exports, checked by
    ``grids.services.personal_data_export``)."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.fields["unmasked"] = forms.BooleanField(
            label=gettext_lazy("Export ID-card numbers and phones unmasked"),
            required=False,
            help_text=gettext_lazy(
                "Only street and community staff; needs a reason and is logged."
            ),
        )
        self.fields["reason"] = forms.CharField(
            label=gettext_lazy("Reason"),
            required=False,
            max_length=500,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=gettext_lazy(
                "Required for an unmasked export, or one with more than %(rows)d rows."
            )
            % {"rows": settings.PII_EXPORT_REASON_ROWS},
        )


class ServiceImportExportMixin(ImportExportMixin):
    """django-import-export in a scoped admin: the resource gets the user (rows
    are written by services as that user), exports only the changelist's scoped
    rows, and a file with any refused row is rolled back whole. A resource with
    personal data (``personal_fields``) exports masked unless the form asks
    otherwise; a refusal (role, missing reason) is shown on the form. With
    ``job_resource`` (a key of ``grids.resources.JOB_RESOURCES``) the list also
    links to the background import and export of the same data (big files)."""

    import_export_change_list_template = "admin/grids/change_list_import_export.html"
    job_resource = None

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "job_resource": self.job_resource}
        return super().changelist_view(request, extra_context)

    def get_resource_kwargs(self, request, *args, **kwargs):
        return {"user": request.user}

    def _has_personal_data(self) -> bool:
        return any(getattr(r, "personal_fields", None) for r in self.resource_classes)

    def get_export_form_class(self):
        if self._has_personal_data():
            return PersonalDataExportForm
        return super().get_export_form_class()

    def get_export_resource_kwargs(self, request, **kwargs):
        resource_kwargs = self.get_resource_kwargs(request)
        form = kwargs.get("export_form")
        cleaned = getattr(form, "cleaned_data", None) or {}
        if isinstance(form, PersonalDataExportForm) and cleaned:
            resource_kwargs["unmasked"] = bool(cleaned.get("unmasked"))
            resource_kwargs["reason"] = cleaned.get("reason") or ""
        return resource_kwargs

    def get_data_for_export(self, request, queryset, **kwargs):
        try:
            return super().get_data_for_export(request, queryset, **kwargs)
        except DomainError as exc:
            # export_action shows a ValueError's text on the form.
            raise ValueError(exc.message) from None

    def get_import_data_kwargs(self, **kwargs):
        data_kwargs = super().get_import_data_kwargs(**kwargs)
        data_kwargs["rollback_on_validation_errors"] = True
        return data_kwargs

    def get_export_queryset(self, request):
        try:
            return super().get_export_queryset(request)
        except IncorrectLookupParameters:
            # A stray or malformed filter in the query string: export nothing
            # rather than fail (the changelist itself answers with ?e=1).
            return self.get_queryset(request).none()

    def has_import_permission(self, request):
        return self._may_write(request)

    def has_export_permission(self, request):
        return permissions.can_view(request.user)


class SharedListAdminMixin(SafeActionSelectionMixin):
    """A list shared by every area (a catalogue, the calendar): every staff user
    reads it, street staff keep it, nobody deletes (rows are referred to; switch
    one off instead)."""

    def has_module_permission(self, request):
        return permissions.can_view(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.can_view(request.user)

    def has_add_permission(self, request, *args):
        return permissions.can_keep_shared_lists(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_keep_shared_lists(request.user)

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceErrorMixin:
    """Show a DomainError from a service as an error message, not a 500."""

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyMixin(SafeActionSelectionMixin):
    """Rows written only by services (logs, ledgers): nobody adds, changes or
    deletes them here, administrators included."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceSaveMixin:
    """A ModelAdmin whose form saves through a create and an update service.

    On add, the form's ``service_fields`` (less ``create_drops``) go to
    ``service_create(request, fields)``; on change, only the changed ones go to
    ``service_update(request, obj, changed)``, and nothing is called when nothing
    changed. Mix in after ``ServiceErrorMixin`` so a refusal is a message.
    """

    service_fields = ()
    create_drops = ("is_active",)

    def service_create(self, request, fields):
        raise NotImplementedError

    def service_update(self, request, obj, changed):
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        data = {
            f: form.cleaned_data[f]
            for f in self.service_fields
            if f in form.cleaned_data
        }
        if change:
            changed = {f: v for f, v in data.items() if f in form.changed_data}
            if changed:
                self.service_update(request, obj, changed)
        else:
            for field in self.create_drops:
                data.pop(field, None)
            obj.pk = self.service_create(request, data).pk
        obj.refresh_from_db()


class HistoryAdminMixin(SimpleHistoryAdmin):
    """The record history (``grids.history``) in an admin: the History button
    lists a record's versions (who, when, what changed) and each version opens
    read-only.

    Scoped like the rest of the admin: both pages first find the record in
    ``get_queryset(request)`` (the user's subtree), so a record outside it, or
    an id that is no id, is a 404 — simple-history's own views fall back to the
    history table, which would show any record. Nobody reverts: writes go
    through the services, so a POST to a version is refused (403).
    """

    object_history_list_template = "admin/history_list.html"
    object_history_form_template = "admin/history_version.html"

    def get_urls(self):
        urls = super().get_urls()
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}_simple_history"
        # simple-history's pattern has unnamed groups; the same pattern, named.
        version = re_path(
            r"^(?P<object_id>[^/]+)/history/(?P<version_id>[^/]+)/$",
            self.admin_site.admin_view(self.history_form_view),
            name=name,
        )
        return [version] + [u for u in urls if getattr(u, "name", None) != name]

    def _record_in_scope(self, request, object_id):
        pk = self.model._meta.pk
        try:
            key = pk.to_python(unquote(object_id))
            return self.get_queryset(request).get(pk=key)
        except (ValidationError, ValueError, TypeError, ObjectDoesNotExist):
            raise Http404(str(OUTSIDE_YOUR_AREA)) from None
        except MultipleObjectsReturned:  # a joined scope repeats the row
            return self.get_queryset(request).filter(pk=key).first()

    def revert_disabled(self, request, obj=None):
        return True

    def has_change_history_permission(self, request, obj=None):
        return False

    def history_view(self, request, object_id, extra_context=None):
        obj = self._record_in_scope(request, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """One version of a record, read-only: the fields its history keeps."""
        obj = self._record_in_scope(request, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        if request.method != "GET":
            raise PermissionDenied(gettext("Record history is read-only."))
        history = getattr(obj, self.model._meta.simple_history_manager_attribute)
        try:
            version = history.select_related("history_user").get(
                history_id=int(version_id)
            )
        except (ValueError, ObjectDoesNotExist):
            raise Http404 from None
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Version of %(record)s") % {"record": obj},
            "opts": opts,
            "original": obj,
            "version": version,
            "changed_by": version.history_user
            or pgettext("record history", "nobody recorded"),
            "rows": [
                (field.verbose_name, self._version_value(version, field))
                for field in version.tracked_fields
            ],
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_form_template, context)

    @staticmethod
    def _version_value(version, field):
        if field.is_relation:
            try:
                related = getattr(version, field.name)
            except ObjectDoesNotExist:  # since deleted: the key is what is left
                return getattr(version, field.attname)
            return "" if related is None else str(related)
        return display_for_field(getattr(version, field.attname), field, "-")
