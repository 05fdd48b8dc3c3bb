"""Import and export of regions, the roster, households and residents
(django-import-export). Every imported row is written through ``grids.services``
with the importing user as the actor, so the tree rules, validation and scope
hold exactly as in the admin. A refused row is reported with its row number and
reason; with any such row, nothing of the file is written (see ``import_dataset``).

Background jobs import households, residents and the roster through whole-file
services instead (``JobResource.bulk_import``: ``import_households_in_bulk``,
``import_residents_in_bulk``, ``import_roster_in_bulk``): each row read by the
same resource fields, checked by the same rules with the same messages, then
written a few statements per 2,000 rows.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets

from . import permissions, services
from .choices import RegionLevel, Relationship, ResidenceType, WorkerRole
from .errors import DomainError
from .exports import safe_cell
from .masking import mask_id_number, mask_phone
from .models import (
    GridAssignment,
    Household,
    PersonalDataAccess,
    Region,
    Resident,
)
from .services._common import progress_due, report_progress
from .services.datajobs import row_field_errors
from .validators import normalize_phone


class LabelChoiceWidget(widgets.Widget):
    """Accepts a choice's code or its label in English or Chinese (专职, 网格长…)."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = choices

    def clean(self, value, row=None, **kwargs):
        value = str(value).strip() if value is not None else ""
        if not value:
            return ""
        from django.utils import translation

        for code, label in self.choices.choices:
            names = {code, str(label)}
            with translation.override("zh-hans"):
                names.add(str(label))
            with translation.override("en"):
                names.add(str(label))
            if value in names:
                return code
        raise ValueError(_("Unknown value “%(value)s”.") % {"value": value})

    def render(self, value, obj=None, **kwargs):
        return str(self.choices(value).label) if value else ""


class ScopedRegionWidget(widgets.ForeignKeyWidget):
    """A Region given by its code, looked up only inside the importing user's scope."""

    def __init__(self, user=None, **kwargs):
        super().__init__(Region, field="code", **kwargs)
        self.user = user
        # code -> Region, when the caller knows no region changes during the
        # import (a background job of households, residents or the roster):
        # one query per code instead of two per row.
        self.cache = None

    def get_queryset(self, value, row, *args, **kwargs):
        return (
            Region.objects.visible_to(self.user) if self.user else Region.objects.none()
        )

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        value = str(value).strip()
        if value.endswith(".0"):  # Excel turns codes into floats
            value = value[:-2]
        if self.cache is not None and value in self.cache:
            return self.cache[value]
        try:
            region = super().clean(value, row, **kwargs)
        except Region.DoesNotExist:
            raise ValueError(
                _("No region with code %(code)s in your area.") % {"code": value}
            ) from None
        if self.cache is not None:
            self.cache[value] = region
        return region


class ServiceResource(resources.ModelResource):
    """Base: rows are saved by a service with the importing user as actor.

    Exports mask personal data: ``personal_fields`` maps each column holding it
    to its mask, applied unless the resource is made with ``unmasked=True``.
    Every export of such a resource goes through
    ``services.personal_data_export`` (role, reason, access log), whoever calls
    ``export()``: the admin or a background job.
    """

    personal_fields: dict = {}

    def __init__(
        self, user=None, *, unmasked: bool = False, reason: str = "", **kwargs
    ):
        super().__init__(**kwargs)
        self.user = user
        self.unmasked = unmasked
        self.reason = reason
        for field in self.fields.values():
            if isinstance(field.widget, ScopedRegionWidget):
                field.widget.user = user

    def get_queryset(self):
        return (
            self._meta.model.objects.visible_to(self.user)
            if self.user
            else self._meta.model.objects.none()
        )

    def export(self, queryset=None, **kwargs):
        if not self.personal_fields:
            return super().export(queryset=queryset, **kwargs)
        if queryset is None:
            queryset = self.get_queryset()
        row_count = len(queryset) if isinstance(queryset, list) else queryset.count()
        return services.personal_data_export(
            actor=self.user,
            model=self._meta.model,
            row_count=row_count,
            fields=list(self.personal_fields),
            unmasked=self.unmasked,
            reason=self.reason,
            build=lambda: super(ServiceResource, self).export(
                queryset=queryset, **kwargs
            ),
        )

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        mask = self.personal_fields.get(field.column_name)
        if mask is not None and not self.unmasked:
            value = mask(value)
        # Every exported cell, dehydrated ones included, stays text in a
        # spreadsheet (no live ``=HYPERLINK(…)`` from a resident's name).
        return safe_cell(value)

    def save_instance(self, instance, is_create, row, **kwargs):
        try:
            saved = self.save_through_service(instance, is_create, row)
        except DomainError as exc:
            raise ValidationError(exc.message) from None
        instance.pk = saved.pk

    def save_m2m(self, instance, row, **kwargs):
        """Relations are written by the services."""

    def save_through_service(self, instance, is_create, row):
        raise NotImplementedError


def _cell(row, name):
    value = row.get(name)
    return "" if value is None else str(value).strip()


class RegionResource(ServiceResource):
    code = fields.Field(attribute="code", column_name="code")
    name = fields.Field(attribute="name", column_name="name")
    level = fields.Field(
        attribute="level", column_name="level", widget=LabelChoiceWidget(RegionLevel)
    )
    parent = fields.Field(
        attribute="parent", column_name="parent_code", widget=ScopedRegionWidget()
    )

    class Meta:
        model = Region
        import_id_fields = ("code",)
        fields = (
            "code",
            "name",
            "level",
            "parent",
            "households_count",
            "population_count",
            "latitude",
            "longitude",
            "is_active",
        )
        export_order = fields
        clean_model_instances = False  # the services validate
        skip_unchanged = True
        report_skipped = False

    def get_queryset(self):
        return (
            Region.objects.visible_to(self.user) if self.user else Region.objects.none()
        )

    def save_through_service(self, instance, is_create, row):
        data = {
            f: getattr(instance, f)
            for f in (
                "households_count",
                "population_count",
                "latitude",
                "longitude",
                "is_active",
            )
        }
        if is_create:
            return services.region_create(
                actor=self.user,
                parent=instance.parent,
                name=instance.name,
                level=instance.level,
                code=instance.code,
                **data,
            )
        current = Region.objects.get(pk=instance.pk)
        if instance.parent_id and instance.parent_id != current.parent_id:
            services.region_move(
                actor=self.user, region_id=instance.pk, new_parent_id=instance.parent_id
            )
        if instance.level != current.level:
            raise DomainError(
                _("The level of an existing region cannot be changed by import.")
            )
        return services.region_update(
            actor=self.user, region_id=instance.pk, name=instance.name, **data
        )


class RosterResource(ServiceResource):
    """One stint per row: grid code, worker name and phone, role, dates."""

    grid = fields.Field(
        attribute="grid", column_name="grid_code", widget=ScopedRegionWidget()
    )
    worker_name = fields.Field(
        attribute="worker__name", column_name="worker_name", readonly=False
    )
    worker_phone = fields.Field(column_name="worker_phone")
    is_party_member = fields.Field(
        attribute="worker__is_party_member",
        column_name="is_party_member",
        widget=widgets.BooleanWidget(),
    )
    role = fields.Field(
        attribute="role", column_name="role", widget=LabelChoiceWidget(WorkerRole)
    )
    started_on = fields.Field(
        attribute="started_on", column_name="started_on", widget=widgets.DateWidget()
    )
    ended_on = fields.Field(
        attribute="ended_on", column_name="ended_on", widget=widgets.DateWidget()
    )

    class Meta:
        model = GridAssignment
        import_id_fields = ()
        fields = (
            "grid",
            "worker_name",
            "worker_phone",
            "is_party_member",
            "role",
            "started_on",
            "ended_on",
        )
        export_order = fields
        clean_model_instances = False

    personal_fields = {"worker_phone": mask_phone}

    def get_instance(self, instance_loader, row):
        return None  # every row is a stint; matching is done by the service

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.column_name in ("worker_name", "worker_phone", "is_party_member"):
            return  # read from the row in save_through_service
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def dehydrate_worker_phone(self, assignment):
        return assignment.worker.phone

    def save_through_service(self, instance, is_create, row):
        if not instance.grid_id:
            raise DomainError(_("grid_code is required."))
        if not instance.role:
            raise DomainError(_("role is required."))
        worker = services.grid_worker_upsert(
            actor=self.user,
            name=_cell(row, "worker_name"),
            phone=normalize_phone(_cell(row, "worker_phone")),
            # an empty or missing column keeps what the roster says
            is_party_member=(
                None
                if row.get("is_party_member") in (None, "")
                else widgets.BooleanWidget().clean(row.get("is_party_member"))
            ),
        )
        open_stint = GridAssignment.objects.filter(
            worker=worker, grid=instance.grid, role=instance.role, ended_on__isnull=True
        ).first()
        if open_stint is None:
            open_stint = services.assignment_start(
                actor=self.user,
                worker=worker,
                grid=instance.grid,
                role=instance.role,
                started_on=instance.started_on,
            )
        if instance.ended_on:
            services.assignment_end(
                actor=self.user, assignment_id=open_stint.pk, ended_on=instance.ended_on
            )
        return open_stint


class HouseholdResource(ServiceResource):
    region = fields.Field(
        attribute="region", column_name="region_code", widget=ScopedRegionWidget()
    )

    class Meta:
        model = Household
        import_id_fields = ("region", "address")
        fields = ("region", "address", "household_number", "notes")
        export_order = fields
        clean_model_instances = False
        skip_unchanged = True

    def save_through_service(self, instance, is_create, row):
        if instance.region_id is None:
            raise DomainError(_("region_code is required."))
        if is_create:
            return services.household_create(
                actor=self.user,
                region=instance.region,
                address=instance.address,
                household_number=instance.household_number or "",
                notes=instance.notes or "",
            )
        return services.household_update(
            actor=self.user,
            household_id=instance.pk,
            household_number=instance.household_number or "",
            notes=instance.notes or "",
        )


class ResidentResource(ServiceResource):
    """One person per row, in the household at ``region_code`` + ``address``
    (created when missing), matched by ID-card number (through its hash). Exports
    mask the ID-card number and phone unless made ``unmasked``."""

    region_code = fields.Field(column_name="region_code")
    address = fields.Field(attribute="household__address", column_name="address")
    relationship = fields.Field(
        attribute="relationship",
        column_name="relationship",
        widget=LabelChoiceWidget(Relationship),
    )
    residence_type = fields.Field(
        attribute="residence_type",
        column_name="residence_type",
        widget=LabelChoiceWidget(ResidenceType),
    )

    class Meta:
        model = Resident
        import_id_fields = ("id_number",)
        fields = (
            "region_code",
            "address",
            "name",
            "id_number",
            "phone",
            "relationship",
            "residence_type",
        )
        export_order = fields
        clean_model_instances = False

    personal_fields = {"id_number": mask_id_number, "phone": mask_phone}

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.column_name in ("region_code", "address"):
            return
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def dehydrate_region_code(self, resident):
        return resident.household.region.code

    def get_instance(self, instance_loader, row):
        # The number is stored encrypted: the resident is found by its hash.
        id_number = _cell(row, "id_number")
        return self.get_queryset().with_id_number(id_number).first()

    def region_widget(self):
        widget = getattr(self, "_region_widget", None)
        if widget is None:
            widget = self._region_widget = ScopedRegionWidget(user=self.user)
        return widget

    def save_through_service(self, instance, is_create, row):
        region = self.region_widget().clean(row.get("region_code"))
        address = _cell(row, "address")
        if region is None or not address:
            raise DomainError(_("region_code and address are required."))
        household = (
            Household.objects.visible_to(self.user)
            .filter(region=region, address=address)
            .first()
        )
        if household is None:
            household = services.household_create(
                actor=self.user, region=region, address=address
            )
        fields_ = {
            "name": instance.name,
            "id_number": instance.id_number,
            "phone": instance.phone or "",
            "relationship": instance.relationship or Relationship.HEAD,
            "residence_type": instance.residence_type or ResidenceType.REGISTERED,
        }
        if is_create:
            return services.resident_create(
                actor=self.user, household=household, **fields_
            )
        return services.resident_update(
            actor=self.user, resident_id=instance.pk, household=household, **fields_
        )


class PersonalDataAccessResource(ServiceResource):
    """Export of the access log of personal data (read-only; its cells are made
    formula-safe like every export)."""

    actor = fields.Field(attribute="actor__username", column_name="actor")
    kind = fields.Field(attribute="get_kind_display", column_name="kind")
    shown_fields = fields.Field(column_name="fields")

    class Meta:
        model = PersonalDataAccess
        fields = (
            "at",
            "actor",
            "kind",
            "object_repr",
            "object_id",
            "shown_fields",
            "unmasked",
            "row_count",
            "reason",
        )
        export_order = fields

    def dehydrate_shown_fields(self, access):
        return ", ".join(access.fields)

    def import_data(self, *args, **kwargs):
        raise DomainError(_("The access log cannot be imported."))


def import_dataset(*, actor, resource_class, dataset, dry_run: bool = False):
    """Import a whole file or nothing: any bad row rolls every row back.

    Returns the django-import-export Result; ``result.has_errors()`` or
    ``result.has_validation_errors()`` say whether it was refused, and
    ``import_errors(result)`` lists (row number, reason) pairs.
    """
    permissions.require(permissions.can_view(actor))
    resource = resource_class(user=actor)
    return resource.import_data(
        dataset,
        dry_run=dry_run,
        use_transactions=True,
        rollback_on_validation_errors=True,
        raise_errors=False,
        user=actor,
    )


def import_errors(result) -> list[tuple[int, str]]:
    """(row number as in the file, reason) for every refused row."""
    errors = []
    for number, row_errors in result.row_errors():
        for error in row_errors:
            errors.append((number, str(error.error)))
    for invalid in result.invalid_rows:
        messages = []
        for field, field_messages in invalid.error_dict.items():
            label = "" if field == "__all__" else f"{field}: "
            messages.extend(f"{label}{m}" for m in field_messages)
        errors.append((invalid.number, "; ".join(messages)))
    return sorted(errors)


def _progress_after(progress, errors_before: int):
    """``progress`` for the service that checks and writes the rows read so
    far: its refused rows come after the ``errors_before`` refused here."""
    if progress is None:
        return None

    def report(**counters):
        if "errors" in counters:
            counters["errors"] += errors_before
        progress(**counters)

    return report


def import_households_in_bulk(user, dataset, *, progress=None) -> list[dict]:
    """A households file through ``services.households_import`` (every row
    checked, then a few set-based statements) instead of a service call per
    row: the same checks and messages as ``HouseholdResource``. Returns the row
    errors in the job's form, empty when every row was written; the caller's
    transaction is rolled back when there are any (all or nothing)."""
    headers = list(dataset.headers or [])
    for column in ("region_code", "address"):
        if column not in headers:
            return [
                {
                    "row": 0,
                    "field": "",
                    "message": _("The file has no %(column)s column.")
                    % {"column": column},
                }
            ]
    widget = ScopedRegionWidget(user=user)
    widget.cache = {}  # one lookup per code: no region changes meanwhile
    rows, errors = [], []
    for number, values in enumerate(dataset.dict, 1):
        if progress_due(number):
            report_progress(progress, checked=number - 1, errors=len(errors))
        try:
            region = widget.clean(values.get("region_code"))
        except ValueError as exc:
            errors.append({"row": number, "field": "", "message": str(exc)})
            continue
        rows.append(
            services.HouseholdRow(
                number=number,
                region=region,
                address=_cell(values, "address"),
                household_number=_cell(values, "household_number"),
                notes="" if values.get("notes") is None else str(values["notes"]),
            )
        )
    report_progress(progress, checked=len(dataset), errors=len(errors))
    refused = services.households_import(
        actor=user, rows=rows, progress=_progress_after(progress, len(errors))
    )
    errors.extend({"row": n, "field": "", "message": m} for n, m in refused)
    return sorted(errors, key=lambda error: error["row"])


def import_residents_in_bulk(user, dataset, *, progress=None) -> list[dict]:
    """A residents file through ``services.residents_import`` instead of a
    service call per row. Each row's cells are read by ``ResidentResource``'s
    own fields (the same widgets, values and messages as the row-by-row
    import), its region looked up once per code; the service checks and writes
    the whole file. Returns the row errors in the job's form, empty when every
    row was written; the caller's transaction is rolled back when there are any
    (all or nothing)."""
    resource = ResidentResource(user=user)
    headers = list(dataset.headers or [])
    try:
        # The file-level check of the row-by-row import (no id_number column).
        resource._check_import_id_fields(headers)
    except Exception as exc:  # import-export raises FieldError
        return [{"row": 0, "field": "", "message": str(exc)}]
    widget = ScopedRegionWidget(user=user)
    widget.cache = {}  # one lookup per code: no region changes meanwhile
    unknown_codes: dict[str, str] = {}
    rows, errors = [], []
    refused_rows = 0  # a row refused here has one error a field
    for number, values in enumerate(dataset.dict, 1):
        if progress_due(number):
            report_progress(progress, checked=number - 1, errors=refused_rows)
        instance = Resident()
        try:
            resource.import_instance(instance, values)
        except ValidationError as exc:
            errors.extend(row_field_errors(number, exc.message_dict))
            refused_rows += 1
            continue
        code = "" if values.get("region_code") is None else str(values["region_code"])
        try:
            if code in unknown_codes:
                raise ValueError(unknown_codes[code])
            region = widget.clean(values.get("region_code"))
        except ValueError as exc:
            unknown_codes[code] = str(exc)
            errors.append({"row": number, "field": "", "message": str(exc)})
            refused_rows += 1
            continue
        rows.append(
            services.ResidentRow(
                number=number,
                region=region,
                address=_cell(values, "address"),
                id_number=instance.id_number or "",
                **{
                    field: getattr(instance, field) if field in values else None
                    for field in ("name", "phone", "relationship", "residence_type")
                },
            )
        )
    report_progress(progress, checked=len(dataset), errors=refused_rows)
    refused = services.residents_import(
        actor=user, rows=rows, progress=_progress_after(progress, refused_rows)
    )
    errors.extend({"row": n, "field": "", "message": m} for n, m in refused)
    return sorted(errors, key=lambda error: error["row"])


def import_roster_in_bulk(user, dataset, *, progress=None) -> list[dict]:
    """A roster file through ``services.roster_import`` instead of three
    service calls per row. Each row's cells are read by ``RosterResource``'s own
    fields (the same widgets, values and messages as the row-by-row import, a
    grid looked up once per code); the service checks and writes the whole
    file. Returns the row errors in the job's form, empty when every row was
    written; the caller's transaction is rolled back when there are any."""
    resource = RosterResource(user=user)
    for field in resource.fields.values():
        if isinstance(field.widget, ScopedRegionWidget):
            field.widget.cache = {}  # no region changes meanwhile
    party = widgets.BooleanWidget()
    rows, errors = [], []
    refused_rows = 0  # a row refused here has one error a field
    for number, values in enumerate(dataset.dict, 1):
        if progress_due(number):
            report_progress(progress, checked=number - 1, errors=refused_rows)
        instance = GridAssignment()
        try:
            resource.import_instance(instance, values)
            # as save_through_service reads the flag (outside the fields)
            flag = values.get("is_party_member")
            is_party_member = None if flag in (None, "") else party.clean(flag)
        except ValidationError as exc:
            errors.extend(row_field_errors(number, exc.message_dict))
            refused_rows += 1
            continue
        except ValueError as exc:
            errors.append({"row": number, "field": "", "message": str(exc)})
            refused_rows += 1
            continue
        rows.append(
            services.RosterRow(
                number=number,
                grid=instance.grid if instance.grid_id else None,
                role=instance.role or "",
                worker_name=_cell(values, "worker_name"),
                worker_phone=normalize_phone(_cell(values, "worker_phone")),
                is_party_member=is_party_member,
                started_on=instance.started_on,
                ended_on=instance.ended_on,
            )
        )
    report_progress(progress, checked=len(dataset), errors=refused_rows)
    refused = services.roster_import(
        actor=user, rows=rows, progress=_progress_after(progress, refused_rows)
    )
    errors.extend({"row": n, "field": "", "message": m} for n, m in refused)
    return sorted(errors, key=lambda error: error["row"])


@dataclass(frozen=True)
class JobResource:
    """A resource that background jobs import or export (``grids.DataJob``)."""

    resource_class: type[ServiceResource]
    label: str
    # The lookup from the resource's model to its Region (the scope path).
    scope_path: str
    may_import: Callable[[object], bool]
    # Relations every exported row reads (one join instead of a query a row).
    export_related: tuple[str, ...] = ()
    # Look each region code up once per job (not for imports of the tree
    # itself, whose rows create and move regions).
    cache_regions: bool = True
    # A whole-file import (user, dataset, progress=None) -> row errors, where
    # there is one; ``progress(checked=, written=, errors=)`` gets the counters
    # so far (``report_progress``).
    bulk_import: Callable[..., list[dict]] | None = None

    def job_resource(self, user, **options) -> ServiceResource:
        """The resource as a job uses it: the same rows, checks and services as
        the admin import, without the HTML diff the admin's preview shows, and
        exports read in chunks of 2,000 rows. ``options`` are the resource's own
        (``unmasked``, ``reason`` for an export of personal data)."""
        import copy

        resource = self.resource_class(user=user, **options)
        meta = copy.copy(resource._meta)
        meta.skip_html_diff = True
        meta.chunk_size = 2000
        resource._meta = meta  # this instance only; the class keeps its options
        if self.cache_regions:
            widgets_ = [f.widget for f in resource.fields.values()]
            if isinstance(resource, ResidentResource):
                widgets_.append(resource.region_widget())
            for widget in widgets_:
                if isinstance(widget, ScopedRegionWidget):
                    widget.cache = {}
        return resource


JOB_RESOURCES = {
    "households": JobResource(
        HouseholdResource,
        gettext_lazy("households"),
        "region",
        permissions.can_manage_households,
        ("region",),
        bulk_import=import_households_in_bulk,
    ),
    "residents": JobResource(
        ResidentResource,
        gettext_lazy("residents"),
        "household__region",
        permissions.can_manage_households,
        ("household__region",),
        bulk_import=import_residents_in_bulk,
    ),
    "roster": JobResource(
        RosterResource,
        gettext_lazy("grid-worker roster"),
        "grid",
        permissions.can_manage_roster,
        ("grid", "worker"),
        bulk_import=import_roster_in_bulk,
    ),
    "regions": JobResource(
        RegionResource,
        gettext_lazy("regions"),
        "",
        permissions.can_manage_hierarchy,
        ("parent",),
        cache_regions=False,
    ),
}


def export_rows(resource, queryset=None, **options) -> Iterator[list]:
    """The header, then one exported row at a time: ``Resource.export`` without
    holding the file in memory. Same hooks, same ``export_resource`` (each cell
    through ``export_field``: masking, ``safe_cell``), the export ``options``
    passed through as the admin's export passes them."""
    resource.before_export(queryset, **options)
    if queryset is None:
        queryset = resource.get_queryset()
    queryset = resource.filter_export(queryset, **options)
    selected = options.get("export_fields")
    yield resource.get_export_headers(selected_fields=selected)
    for instance in resource.iter_queryset(queryset):
        yield resource.export_resource(instance, selected_fields=selected, **options)
