"""The tickets app owns the 12345 ticket lifecycle (六单), its catalogue of
categories and departments, the working-day calendar, the event log, resident
evaluations and assessments."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey

from grids.append_only import AppendOnlyModel
from grids.masking import mask_name, mask_phone
from grids.models import Region

from .choices import (
    ESCALATING_STAGES,
    Action,
    CalendarSource,
    ClosingLevel,
    DeadlineClass,
    DeadlineUnit,
    EvaluationChannel,
    Source,
    Stage,
    Verdict,
)
from .places import SCOPE_COLUMNS, scope_column_values
from .querysets import (
    DepartmentQuerySet,
    HandlingLimitQuerySet,
    TicketEventQuerySet,
    TicketQuerySet,
)


def limit_text(days: int, unit: str) -> str:
    """A limit with its unit, as staff read it: "7 日（自然日）", "30 个工作日"."""
    if unit == DeadlineUnit.CALENDAR_DAYS:
        return gettext("%(days)s days (calendar days)") % {"days": days}
    return gettext("%(days)s working days") % {"days": days}


class HandlingLimit(models.Model):
    """A deadline class (办理时限类别): how long 做单 may take, in the unit the
    seed writes (seed 004: "5日", "7日", "30个工作日"). Shared classes have no
    region; a street may keep its own for its subtree."""

    code = models.SlugField(
        _("code"),
        max_length=32,
        primary_key=True,
        help_text=_("A stable code (letters, digits, hyphens), never changed."),
    )
    name = models.CharField(_("name"), max_length=100)
    days = models.PositiveSmallIntegerField(
        _("limit"), validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    unit = models.CharField(
        _("unit"),
        max_length=16,
        choices=DeadlineUnit.choices,
        default=DeadlineUnit.CALENDAR_DAYS,
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("kept by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: shared by every area. A street: its own subtree only."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = HandlingLimitQuerySet.as_manager()

    class Meta:
        verbose_name = _("deadline class")
        verbose_name_plural = _("deadline classes")
        ordering = ["days", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "name"],
                name="handling_limit_unique_name_per_region",
                nulls_distinct=False,
            )
        ]

    def __str__(self):
        return f"{self.name} {self.limit_label}"

    @property
    def limit_label(self) -> str:
        return limit_text(self.days, self.unit)


class _CodeOrClassDescriptor(ForwardManyToOneDescriptor):
    """Takes a ``HandlingLimit`` or its code: the three standard codes were plain
    strings before classes became rows, and callers still pass them."""

    def __set__(self, instance, value):
        if isinstance(value, str):
            setattr(instance, self.field.attname, value)
            return
        super().__set__(instance, value)


class DeadlineClassField(models.ForeignKey):
    """The deadline class of a category or a ticket: a foreign key to
    ``HandlingLimit`` kept in the old ``deadline_class`` column (the code)."""

    forward_related_accessor_class = _CodeOrClassDescriptor


def new_service_code() -> str:
    """A unique placeholder code for a category written without one (rows made
    outside the catalogue service); staff replace it with a meaningful one."""
    return f"category-{uuid.uuid4().hex[:8]}"


class Department(models.Model):
    """A functional department (职能部门: 城管, 公安, 综治, 民政, 住建, 物业…)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("serves"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="departments",
        help_text=_("The street or district this department works for."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        blank=True,
        related_name="ticket_departments",
        help_text=_("Accounts that accept and handle tickets for this department."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Category(MPTTModel):
    """A node of the category catalogue (e.g. 城市管理 > 占道经营)."""

    parent = TreeForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    name = models.CharField(_("name"), max_length=100)
    default_department = models.ForeignKey(
        Department,
        verbose_name=_("default department"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Open311's service_code: stable, what outside systems refer to.
    service_code = models.SlugField(
        _("service code"),
        max_length=50,
        unique=True,
        default=new_service_code,
        help_text=_("A stable code for outside systems (Open311); never reused."),
    )
    deadline_class = DeadlineClassField(
        HandlingLimit,
        verbose_name=_("deadline class"),
        on_delete=models.PROTECT,
        db_column="deadline_class",
        default=DeadlineClass.GENERAL,
        related_name="+",
        limit_choices_to={"region__isnull": True, "is_active": True},
    )
    is_active = models.BooleanField(_("active"), default=True)

    class MPTTMeta:
        order_insertion_by = ["name"]

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="category_unique_name_in_parent"
            )
        ]

    def __str__(self):
        if self.parent_id:
            return f"{self.parent.name} > {self.name}"
        return self.name

    def clean(self):
        # The catalogue is shared: a street's own class cannot serve it.
        if self.deadline_class_id:
            limit = HandlingLimit.objects.filter(pk=self.deadline_class_id).first()
            if limit is not None and limit.region_id is not None:
                raise ValidationError(
                    {
                        "deadline_class": _(
                            "A category of the shared catalogue takes a shared "
                            "deadline class."
                        )
                    }
                )


class WorkCalendarYear(models.Model):
    """Whether a year's working days are confirmed. Days of an unconfirmed year are
    guessed (``holidays`` plus weekends) and deadlines over them are provisional."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    source = models.CharField(
        _("source"), max_length=20, choices=CalendarSource.choices
    )
    confirmed = models.BooleanField(_("confirmed"), default=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["-year"]

    def __str__(self):
        return str(self.year)


class WorkCalendarDay(models.Model):
    """One day of the working calendar (工作日历): a workday or a day off, with the
    State Council's holidays and make-up workdays (调休)."""

    date = models.DateField(_("date"), primary_key=True)
    is_workday = models.BooleanField(_("workday"))
    source = models.CharField(
        _("source"), max_length=20, choices=CalendarSource.choices
    )
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("working calendar")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d}"


SCOPE_SOURCE_FIELDS = frozenset(
    {"region", "region_id", "handling_region", "handling_region_id"}
)


class Ticket(models.Model):
    """One matter raised by a resident or found on patrol, through its six stages."""

    # 工单编号: our own readable number, year of receipt + sequence (2026-000123),
    # given by ``services.numbers.next_ticket_number`` at intake.
    # Unique by ``ticket_number_unique`` (a constraint, not ``unique=True``:
    # that adds a second, ``varchar_pattern_ops`` index for ``LIKE 'x%'``, which
    # no query runs; the search is ``icontains``).
    number = models.CharField(
        _("ticket number"),
        max_length=20,
        null=True,
        blank=True,
        editable=False,
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    # The 12345 platform's own ticket number: a push repeated is one ticket
    # (``ticket_hotline_number_unique``).
    hotline_number = models.CharField(
        _("12345 ticket number"), max_length=40, null=True, blank=True
    )
    # Not indexed alone: ``ticket_stage_deadline`` leads with it.
    stage = models.CharField(
        _("stage"),
        max_length=16,
        choices=Stage.choices,
        default=Stage.RECEIVED,
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    # Not indexed: no query picks tickets by class (a handful of classes, each
    # a large share of the table), and a class is retired, never deleted (the
    # admin refuses it), so the PROTECT check never runs.
    deadline_class = DeadlineClassField(
        HandlingLimit,
        verbose_name=_("deadline class"),
        on_delete=models.PROTECT,
        db_column="deadline_class",
        default=DeadlineClass.GENERAL,
        related_name="+",
        db_index=False,
    )
    # Where: at intake any node in the receiver's area; a grid or building once
    # triaged (制单).
    # Not indexed alone: ``ticket_region_category_recv`` leads with it.
    region = models.ForeignKey(
        Region,
        verbose_name=_("place (grid / building)"),
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    reporter_name = models.CharField(_("reporter"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=20, blank=True)
    description = models.TextField(pgettext_lazy("ticket", "description"))
    received_at = models.DateTimeField(_("received at"))
    # Who: 包村/分管领导, the handling unit (community or department), the handler.
    responsible_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible leader"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_tickets",
        db_index=False,
    )
    # Not indexed: the scope reads the ``unit_<level>_id`` columns, no list
    # filters on it, and regions are retired, not deleted (PROTECT checks it
    # with a scan, as for ``escalated_to``).
    handling_region = models.ForeignKey(
        Region,
        verbose_name=_("handling community"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_tickets",
        db_index=False,
    )
    handling_department = models.ForeignKey(
        Department,
        verbose_name=_("handling department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,
    )
    instructions = models.TextField(_("handling instructions"), blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_tickets",
        db_index=False,
    )
    # 做单: the handler's record.
    cause = models.TextField(_("cause"), blank=True)
    crux = models.TextField(_("crux"), blank=True)
    measures = models.TextField(_("measures"), blank=True)
    result = models.TextField(_("result"), blank=True)
    # Deadlines of the current stage (one function computes them).
    stage_entered_at = models.DateTimeField(_("stage entered at"))
    # Not indexed alone: ``ticket_stage_deadline`` serves every query on it.
    stage_deadline = models.DateTimeField(_("stage deadline"), null=True, blank=True)
    # The inputs of the current deadline, so it can be recomputed when staff
    # confirm a year of the calendar.
    deadline_basis_at = models.DateTimeField(null=True, blank=True, editable=False)
    deadline_working_days = models.PositiveSmallIntegerField(
        null=True, blank=True, editable=False
    )
    # The unit ``deadline_working_days`` counts in; deadlines set before units
    # existed counted working days.
    deadline_unit = models.CharField(
        max_length=16,
        choices=DeadlineUnit.choices,
        default=DeadlineUnit.WORKING_DAYS,
        editable=False,
    )
    deadline_provisional = models.BooleanField(
        _("provisional deadline"),
        default=False,
        help_text=_("Counted over a year whose calendar staff have not confirmed."),
    )
    remind_at = models.DateTimeField(_("reminder at"), null=True, blank=True)
    reminded_for_deadline = models.DateTimeField(null=True, blank=True, editable=False)
    # Escalation (超期升级): the deadline already escalated makes a rerun a no-op.
    escalation_level = models.PositiveSmallIntegerField(_("escalations"), default=0)
    escalated_for_deadline = models.DateTimeField(null=True, blank=True, editable=False)
    # Not indexed: no list filters on it, and the escalation UPDATE that writes
    # it stays a HOT update (no index entry rewritten) only while no index holds
    # it. (Deleting a region checks it with a scan; regions are retired, not
    # deleted.)
    escalated_to = models.ForeignKey(
        Region,
        verbose_name=_("escalated to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalated_tickets",
        db_index=False,
    )
    # Where the ticket waits now (the triage centre's street, the handling unit):
    # an overdue ticket escalates one level above it.
    holder_region = models.ForeignKey(
        Region,
        verbose_name=_("held at"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Loops: 退单, 上报, 返工.
    return_count = models.PositiveSmallIntegerField(_("returns"), default=0)
    report_up_count = models.PositiveSmallIntegerField(_("reports up"), default=0)
    evaluation_round = models.PositiveSmallIntegerField(
        _("evaluation round"), default=1
    )
    verdict = models.CharField(
        _("verdict"), max_length=16, choices=Verdict.choices, blank=True
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_tickets",
        db_index=False,
    )
    closed_at = models.DateTimeField(
        pgettext_lazy("ticket", "closed at"), null=True, blank=True
    )
    # What the indicators read (governance/indicators.py), so that no event is
    # replayed: written only by the services, in the transition's transaction.
    # First 派单 and first 接单 (the response rate measures the first round).
    dispatched_at = models.DateTimeField(
        _("first dispatched at"), null=True, blank=True, editable=False
    )
    accepted_at = models.DateTimeField(
        _("first accepted at"), null=True, blank=True, editable=False
    )
    # 及时签收: the first 接单 came within the first 派单's limit.
    accepted_on_time = models.BooleanField(
        _("accepted in time"), null=True, blank=True, editable=False
    )
    # The 做单 deadline set at the first 接单: the promise 按期办结 measures.
    handling_due_at = models.DateTimeField(
        _("handling due at"), null=True, blank=True, editable=False
    )
    # First 做单 (办结); a rework does not move it.
    handled_at = models.DateTimeField(
        _("first handled at"), null=True, blank=True, editable=False
    )
    # 返工: rounds sent back to the handler by a 不满意 verdict.
    rework_count = models.PositiveSmallIntegerField(
        _("reworks"), default=0, editable=False
    )
    # Set at 考单: where it was solved (小事不出网格、大事不出社区).
    closing_level = models.CharField(
        _("closed at level"),
        max_length=16,
        choices=ClosingLevel.choices,
        blank=True,
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # The scope columns (``ticket_scope_q``): the place's district, street,
    # community and grid (the node of that level on its path, itself included;
    # empty above that level), and the handling unit's where they differ from the
    # place's (empty otherwise: a handling community holds the place, so these
    # stay empty in practice). Set by ``save`` from ``region`` and
    # ``handling_region`` (``set_scope_columns``), whichever service moves them.
    place_district_id = models.BigIntegerField(null=True, blank=True, editable=False)
    place_street_id = models.BigIntegerField(null=True, blank=True, editable=False)
    place_community_id = models.BigIntegerField(null=True, blank=True, editable=False)
    place_grid_id = models.BigIntegerField(null=True, blank=True, editable=False)
    unit_district_id = models.BigIntegerField(null=True, blank=True, editable=False)
    unit_street_id = models.BigIntegerField(null=True, blank=True, editable=False)
    unit_community_id = models.BigIntegerField(null=True, blank=True, editable=False)
    unit_grid_id = models.BigIntegerField(null=True, blank=True, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-received_at"]
        # Which query each index serves (docs/architecture.md, "Ticket
        # indexes"); the foreign keys not named here keep Django's index for
        # their own lookups (category, holder_region: the filters; created_by:
        # the phone's report limit).
        indexes = [
            # The overdue rule, escalation's candidates, the triage queue
            # (stage IN … ORDER BY stage_deadline) and the stage filter.
            models.Index(
                fields=["stage", "stage_deadline"], name="ticket_stage_deadline"
            ),
            # Likely duplicates at intake (place, category, received window);
            # also the region foreign key's own lookups.
            models.Index(
                fields=["region", "category", "received_at"],
                name="ticket_region_category_recv",
            ),
            # The reminders job: open tickets whose reminder time has come.
            models.Index(
                fields=["remind_at"],
                condition=Q(stage__in=sorted(ESCALATING_STAGES)),
                name="ticket_remind_at_open",
            ),
            # A district's overdue list on the dashboard: its overdue tickets
            # in deadline order, read index-only up to the list's cap. Partial
            # (the escalating stages: about a fifth of the tickets); none of
            # its columns is one escalation writes, so that UPDATE stays HOT.
            models.Index(
                fields=["place_district_id", "stage_deadline", "id"],
                condition=Q(stage__in=sorted(ESCALATING_STAGES)),
                name="ticket_overdue_district",
            ),
            # Every list page of a large scope (a district, a street): the
            # newest first, walked in order and filtered by the scope columns,
            # so a page of 50 reads about 50 / (the scope's share) rows.
            models.Index(
                F("received_at").desc(), F("id").desc(), name="ticket_received_desc"
            ),
            # Small scopes (a street, a community, a grid): the scope column's
            # rows, newest first (a range scan when the scope is the only
            # condition, a bitmap arm of the OR otherwise).
            models.Index(
                F("place_street_id"),
                F("received_at").desc(),
                F("id").desc(),
                name="ticket_street_received",
            ),
            # A street's list filtered by stage (``?stage=accepted``: a 1/1,000
            # share that the walk of ``ticket_received_desc`` passes ~15,000
            # rows to fill a page): the bitmap arm of the scope's OR reads only
            # the street's rows of that stage. Kept beside
            # ``ticket_street_received``, which still serves a street's rows in
            # list order (the region filter set to a street).
            models.Index(
                F("place_street_id"),
                F("stage"),
                F("received_at").desc(),
                F("id").desc(),
                name="ticket_street_stage_recv",
            ),
            models.Index(
                F("place_community_id"),
                F("received_at").desc(),
                F("id").desc(),
                name="ticket_community_recv",
            ),
            models.Index(
                F("place_grid_id"),
                F("received_at").desc(),
                F("id").desc(),
                name="ticket_grid_received",
            ),
            # Foreign keys that are empty on most rows, and always on a new
            # ticket: partial indexes hold only the rows that have a value, so
            # an insert, and an update that is not HOT, writes no entry there.
            # Every query on them compares with a value (``handler = me``, the
            # scope's handler and department arms, 待我派单's leader, a ticket's
            # merged tickets, PROTECT's check), which implies NOT NULL.
            *(
                models.Index(
                    fields=[field],
                    condition=Q(**{f"{field}__isnull": False}),
                    name=f"ticket_{field}",
                )
                for field in (
                    "handler",
                    "responsible_leader",
                    "handling_department",
                    "merged_into",
                )
            ),
            # The handling unit's columns are empty but for a unit that does
            # not hold the place: partial indexes, empty in practice.
            *(
                models.Index(
                    fields=[f"unit_{level}_id"],
                    condition=Q(**{f"unit_{level}_id__isnull": False}),
                    name=f"ticket_unit_{level}",
                )
                for level in ("district", "street", "community", "grid")
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="ticket_number_unique"),
            models.UniqueConstraint(
                fields=["hotline_number"], name="ticket_hotline_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(handling_region__isnull=True)
                | Q(handling_department__isnull=True),
                name="ticket_one_handling_unit",
            ),
            models.CheckConstraint(
                condition=~Q(source="hotline") | Q(hotline_number__isnull=False),
                name="ticket_hotline_has_number",
            ),
        ]

    def __str__(self):
        return f"{self.display_number} {self.description[:30]}"

    def save(self, *args, **kwargs):
        """Saves, setting the scope columns when the place or the handling unit
        is written (``update_fields`` naming either, or a full save)."""
        update_fields = kwargs.get("update_fields")
        if update_fields is None or SCOPE_SOURCE_FIELDS.intersection(update_fields):
            self.set_scope_columns()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, *SCOPE_COLUMNS}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("admin:tickets_ticket_change", args=[self.pk])

    def set_scope_columns(self) -> None:
        """The scope columns from ``region`` and ``handling_region``
        (``tickets.places``; no query once the regions' paths are cached)."""
        region = self.region if self.region_id else None
        unit = self.handling_region if self.handling_region_id else None
        for column, value in scope_column_values(region, unit).items():
            setattr(self, column, value)

    @property
    def display_number(self) -> str:
        """The readable number (rows inserted without one show their id)."""
        return self.number or f"#{self.pk}"

    @property
    def masked_reporter_phone(self) -> str:
        return mask_phone(self.reporter_phone)

    @property
    def masked_reporter_name(self) -> str:
        return mask_name(self.reporter_name)

    @property
    def handling_unit(self):
        return self.handling_region or self.handling_department


class TicketPhoto(models.Model):
    """A photo of a ticket (intake or handling), checked by content on upload."""

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="photos",
    )
    event = models.ForeignKey(
        "TicketEvent",
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="photos",
    )
    image = models.ImageField(_("photo"), upload_to="tickets/%Y/%m/")
    gps_latitude = models.FloatField(_("GPS latitude"), null=True, blank=True)
    gps_longitude = models.FloatField(_("GPS longitude"), null=True, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket photo")
        verbose_name_plural = _("ticket photos")
        ordering = ["uploaded_at", "pk"]
        # governance.media finds the record of a photo by its stored path.
        indexes = [models.Index(fields=["image"], name="ticketphoto_image_idx")]

    def __str__(self):
        return self.image.name


class TicketEvent(AppendOnlyModel):
    """One entry of a ticket's append-only log: who did what, when, from which
    stage to which, with a note and photos. Rows are never changed or deleted
    (the model, the queryset and a PostgreSQL trigger refuse)."""

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Who acted when there is no account: the resident, the system, a job.
    actor_label = models.CharField(_("actor (no account)"), max_length=60, blank=True)
    at = models.DateTimeField(_("at"))
    from_stage = models.CharField(
        _("from stage"), max_length=16, choices=Stage.choices, blank=True
    )
    to_stage = models.CharField(
        _("to stage"), max_length=16, choices=Stage.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    deadline = models.DateTimeField(_("deadline set"), null=True, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    objects = TicketEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["ticket", "at"])]

    def __str__(self):
        return f"#{self.ticket_id} {self.get_action_display()}"


class TicketEvaluation(models.Model):
    """A resident's verdict on one round (评单); at most one per round."""

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="evaluations",
    )
    round = models.PositiveSmallIntegerField(_("round"))
    verdict = models.CharField(_("verdict"), max_length=16, choices=Verdict.choices)
    comment = models.TextField(_("comment"), blank=True)
    channel = models.CharField(
        _("channel"), max_length=8, choices=EvaluationChannel.choices, blank=True
    )
    reporter_phone = models.CharField(_("reporter phone"), max_length=20, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    call_note = models.CharField(_("call note"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["ticket_id", "round"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "round"], name="evaluation_once_per_round"
            )
        ]

    def __str__(self):
        return f"#{self.ticket_id} {self.round}: {self.get_verdict_display()}"


class TicketAssessment(models.Model):
    """The one assessment of a ticket (考单, 一事一考评); scores out of 100."""

    ticket = models.OneToOneField(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="assessment",
    )
    satisfaction_score = models.PositiveSmallIntegerField(_("satisfaction"))
    timeliness_score = models.PositiveSmallIntegerField(_("timeliness"))
    effect_score = models.PositiveSmallIntegerField(_("effect"))
    total_score = models.DecimalField(_("total"), max_digits=5, decimal_places=2)
    note = models.TextField(_("note"), blank=True)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessor"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction_score__lte=100)
                & Q(timeliness_score__lte=100)
                & Q(effect_score__lte=100),
                name="assessment_scores_at_most_100",
            )
        ]

    def __str__(self):
        return f"#{self.ticket_id} {self.total_score}"


class UsedEvaluationToken(models.Model):
    """A signed evaluation link already used: a link works once."""

    digest = models.CharField(max_length=64, primary_key=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("used evaluation link")
        verbose_name_plural = _("used evaluation links")

    def __str__(self):
        return self.digest[:12]


class TicketNumberCounter(models.Model):
    """The last sequence number given in a year: where numbers are taken on
    SQLite; on PostgreSQL each year has a sequence instead, started after its
    row (``services.numbers``)."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("ticket number counter")
        verbose_name_plural = _("ticket number counters")

    def __str__(self):
        return f"{self.year}: {self.last}"


class TriageQueueTicket(Ticket):
    """The triage queue (待制单/待派单) as its own page in the admin."""

    class Meta:
        proxy = True
        verbose_name = _("new ticket (triage queue)")
        verbose_name_plural = _("triage queue")


class LeaderQueueTicket(Ticket):
    """待我派单: triaged tickets whose responsible leader is the user."""

    class Meta:
        proxy = True
        verbose_name = _("ticket to dispatch")
        verbose_name_plural = _("to dispatch by me")


# Open311's rows live with the Open311 code (tickets/open311/); imported here so
# that Django finds them as models of this app.
from .hotline.models import (  # noqa: E402, F401  (the hotline's models live in this app)
    HotlineAreaMapping,
    HotlineCategoryMapping,
    HotlineDelivery,
    HotlineInbound,
    HotlinePlatform,
)
from .open311.models import Open311Client, Open311Request  # noqa: E402, F401
