"""The grids app owns the Region tree, staff accounts and their scope, the
grid-worker roster, households (一户一档) and residents, and the patrol log."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey

from .append_only import AppendOnlyModel
from .choices import (
    ALLOWED_CHILD_LEVELS,
    CODE_SEGMENT_DIGITS,
    GRID_LEVELS,
    AuditAction,
    DataJobFormat,
    DataJobKind,
    DataJobState,
    Gender,
    NotificationChannel,
    PatrolKind,
    PersonalDataAccessKind,
    RegionLevel,
    Relationship,
    ResidenceType,
    UserRole,
    WorkerRole,
)
from .fields import BlindIndexField, EncryptedCharField
from .history import PrivateHistoricalRecords
from .masking import mask_id_number, mask_phone
from .pii import blind_index
from .querysets import (
    AssignmentQuerySet,
    DataJobQuerySet,
    GridWorkerQuerySet,
    HouseholdQuerySet,
    PatrolQuerySet,
    PersonalDataAccessQuerySet,
    RegionManager,
    ResidentQuerySet,
)
from .validators import (
    validate_geojson_boundary,
    validate_id_number,
    validate_mainland_phone,
)


class Region(MPTTModel):
    """A node of the one administrative tree (区 → 街道 → 片区 → 社区 → 网格 → 楼栋)."""

    parent = TreeForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=RegionLevel.choices)
    code = models.CharField(
        _("code"),
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        help_text=_(
            "6-digit administrative division, then 3 digits each for street, "
            "community, grid and building; an area has none."
        ),
    )
    households_count = models.PositiveIntegerField(
        _("household count"), null=True, blank=True
    )
    population_count = models.PositiveIntegerField(
        _("population"), null=True, blank=True
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    boundary = models.JSONField(
        _("boundary (GeoJSON)"),
        null=True,
        blank=True,
        validators=[validate_geojson_boundary],
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = RegionManager()
    history = PrivateHistoricalRecords()

    class MPTTMeta:
        # ``level`` is the domain level (street, grid, …); MPTT's depth is ``depth``.
        level_attr = "depth"
        order_insertion_by = ["code", "name"]

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        indexes = [models.Index(fields=["level"], name="region_level_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90),
                name="region_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True)
                | Q(longitude__gte=-180, longitude__lte=180),
                name="region_longitude_range",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.level not in RegionLevel.values:
            return  # the level field reports its own error
        parent_level = self.parent.level if self.parent_id else None
        if self.level not in ALLOWED_CHILD_LEVELS.get(parent_level, set()):
            # Under "parent": on a change form the level is read-only.
            raise ValidationError(
                {
                    "parent": _("A %(level)s cannot be placed under %(parent)s.")
                    % {
                        "level": RegionLevel(self.level).label,
                        "parent": RegionLevel(parent_level).label
                        if parent_level
                        else _("the root"),
                    }
                }
            )
        code_error = self.code_error(self.code, self.level, self.parent)
        if code_error:
            raise ValidationError({"code": code_error})

    @staticmethod
    def expected_code_prefix(parent) -> str:
        """The code a child of ``parent`` must start with (nearest coded ancestor)."""
        node = parent
        while node is not None:
            if node.code:
                return node.code
            node = node.parent
        return ""

    @classmethod
    def code_error(cls, code, level, parent):
        """Why ``code`` is wrong for a ``level`` node under ``parent``, or None."""
        digits = CODE_SEGMENT_DIGITS[RegionLevel(level)]
        if digits == 0:
            if code:
                return _("An area has no code of its own; leave it empty.")
            return None
        if not code:
            return None  # codes are recommended, not required
        prefix = cls.expected_code_prefix(parent)
        if not (code.isascii() and code.isdigit()) or len(code) != len(prefix) + digits:
            return _("The code must be %(length)d digits.") % {
                "length": len(prefix) + digits
            }
        if not code.startswith(prefix):
            return _("The code must start with its parent's code %(prefix)s.") % {
                "prefix": prefix
            }
        return None

    @property
    def is_grid(self) -> bool:
        return self.level in GRID_LEVELS

    def ancestor_of_level(self, level):
        """This node if it is of ``level``, else its nearest ancestor of that level
        (one query), else None: e.g. the community a building lies in."""
        if self.level == level:
            return self
        return (
            self.get_ancestors(ascending=True).filter(level=level).first()
            if self.parent_id
            else None
        )

    def contains(self, other) -> bool:
        """Whether ``other`` (a Region) lies in this node's subtree, itself included."""
        return (
            other is not None
            and other.tree_id == self.tree_id
            and self.lft <= other.lft
            and other.rght <= self.rght
        )


class User(AbstractUser):
    """A staff account. Its scope is one Region node: it sees that subtree only."""

    role = models.CharField(
        _("role"), max_length=20, choices=UserRole.choices, blank=True
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("scope"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        help_text=_("The user sees and acts on this region and everything under it."),
    )
    phone = models.CharField(
        _("phone"), max_length=20, blank=True, validators=[validate_mainland_phone]
    )

    history = PrivateHistoricalRecords()

    sensitive_fields = frozenset({"phone"})

    class Meta:
        verbose_name = _("staff account")
        verbose_name_plural = _("staff accounts")

    def __str__(self):
        full_name = f"{self.last_name}{self.first_name}".strip()
        return full_name or self.username

    @property
    def display_name(self) -> str:
        return str(self)

    @property
    def scope_region(self):
        return self.region

    def can_see_region(self, region) -> bool:
        if self.is_superuser:
            return True
        return self.region is not None and self.region.contains(region)


class GridWorker(models.Model):
    """A person on the grid-worker roster (网格员); may or may not have an account."""

    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(
        _("phone"), max_length=20, validators=[validate_mainland_phone]
    )
    is_party_member = models.BooleanField(_("party member"), default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="grid_worker",
    )
    # Where the worker was put on the roster (the creator's area): an unassigned
    # worker is seen only there; afterwards also wherever they serve or served.
    home_region = models.ForeignKey(
        Region,
        verbose_name=_("home area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="home_workers",
    )

    objects = GridWorkerQuerySet.as_manager()
    history = PrivateHistoricalRecords()

    sensitive_fields = frozenset({"phone"})

    class Meta:
        verbose_name = _("grid worker")
        verbose_name_plural = _("grid workers")
        constraints = [
            models.UniqueConstraint(fields=["phone"], name="gridworker_unique_phone")
        ]

    def __str__(self):
        return self.name

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class GridAssignment(models.Model):
    """One stint of a worker on a grid in a role; ended stints stay as history."""

    worker = models.ForeignKey(
        GridWorker,
        verbose_name=_("grid worker"),
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    grid = models.ForeignKey(
        Region,
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    role = models.CharField(_("role"), max_length=16, choices=WorkerRole.choices)
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()
    history = PrivateHistoricalRecords()

    class Meta:
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster")
        ordering = ["grid_id", "role", "-started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(ended_on__gte=models.F("started_on")),
                name="assignment_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["worker", "grid", "role"],
                condition=Q(ended_on__isnull=True),
                name="assignment_one_open_stint",
            ),
        ]

    def __str__(self):
        return f"{self.worker} · {self.grid} · {self.get_role_display()}"

    def clean(self):
        super().clean()
        if self.grid_id and self.grid.level not in GRID_LEVELS:
            raise ValidationError(
                {"grid": _("Workers serve grids or micro-grids only.")}
            )
        if self.ended_on and self.started_on and self.ended_on < self.started_on:
            raise ValidationError(
                {"ended_on": _("A stint cannot end before it starts.")}
            )


class ResidentTag(models.Model):
    """A special-group tag (标签化管理): elderly living alone, disabled, …"""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50)
    description = models.CharField(_("description"), max_length=200, blank=True)
    visible_to_roles = models.JSONField(
        _("visible to roles"),
        default=list,
        blank=True,
        help_text=_("Roles that may see this tag; empty means every role."),
    )
    # A tag in use is switched off, not deleted: residents keep it, nobody adds it.
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("special-group tag")
        verbose_name_plural = _("special-group tags")
        ordering = ["code"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        roles = self.visible_to_roles
        if not isinstance(roles, list) or set(map(str, roles)) - set(UserRole.values):
            raise ValidationError(
                {"visible_to_roles": _("Choose roles from the list of roles.")}
            )

    def is_visible_to(self, user) -> bool:
        return (
            user.is_superuser
            or not self.visible_to_roles
            or user.role in self.visible_to_roles
        )


class Household(models.Model):
    """One household's file (一户一档), at an address in a grid or building."""

    region = models.ForeignKey(
        Region,
        verbose_name=_("grid / building"),
        on_delete=models.PROTECT,
        related_name="households",
    )
    address = models.CharField(_("address"), max_length=200)
    household_number = models.CharField(
        _("household number"), max_length=30, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    # Active residents of the household, kept by the services that add, move,
    # deactivate or reactivate a resident (an F() update in their transaction),
    # so that lists show it without counting residents over the whole scope.
    # ``household_resident_counts_refresh`` recomputes it for repair.
    resident_count = models.PositiveIntegerField(
        _("residents"), default=0, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = HouseholdQuerySet.as_manager()
    history = PrivateHistoricalRecords()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["region_id", "address"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "address"], name="household_unique_address"
            )
        ]

    def __str__(self):
        return self.address

    def clean(self):
        super().clean()
        if self.region_id and self.region.level not in GRID_LEVELS:
            raise ValidationError(
                {"region": _("A household belongs to a grid or a building.")}
            )


class Resident(models.Model):
    """A person of a household. The ID-card number is personal data: shown masked."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="residents",
    )
    name = models.CharField(_("name"), max_length=50)
    # Stored encrypted (grids.pii), like the phone: the plain number in Python, a
    # token in the database; unique and found through its keyed hash
    # (with_id_number).
    id_number = EncryptedCharField(
        _("ID-card number"),
        max_length=18,
        validators=[validate_id_number],
    )
    id_number_hash = BlindIndexField(
        _("ID-card number hash"), source="id_number", blank=True
    )
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    phone = EncryptedCharField(
        _("phone"), max_length=20, blank=True, validators=[validate_mainland_phone]
    )
    relationship = models.CharField(
        _("relationship to head"),
        max_length=16,
        choices=Relationship.choices,
        default=Relationship.HEAD,
    )
    residence_type = models.CharField(
        _("residence type"),
        max_length=16,
        choices=ResidenceType.choices,
        default=ResidenceType.REGISTERED,
    )
    tags = models.ManyToManyField(
        ResidentTag,
        verbose_name=_("special-group tags"),
        blank=True,
        related_name="residents",
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = ResidentQuerySet.as_manager()
    history = PrivateHistoricalRecords()

    # Personal data (grids.masking.is_sensitive_path): never filtered, searched,
    # sorted or exported whole. Birth date and gender are digits 7–14 and 17 of
    # the ID-card number, so a filter on them would unmask it.
    sensitive_fields = frozenset(
        {"id_number", "id_number_hash", "birth_date", "gender", "phone"}
    )

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["household_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"], name="resident_unique_id_number"
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        # The hash is also set on save; set it here so that validation finds a
        # duplicate number before the database does.
        self.id_number_hash = blind_index(self.id_number or "")

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class Patrol(models.Model):
    """A patrol, household visit or diary entry (日巡查 / 入户走访 / 民情日记)."""

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("grid worker"),
        on_delete=models.PROTECT,
        related_name="patrols",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="patrols"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=PatrolKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="patrols",
    )
    notes = models.TextField(_("notes"))
    photo = models.ImageField(_("photo"), upload_to="patrols/%Y/%m/", blank=True)
    # Where the photo was taken, from its EXIF: the stored file carries none.
    gps_latitude = models.FloatField(_("GPS latitude"), null=True, blank=True)
    gps_longitude = models.FloatField(_("GPS longitude"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = PatrolQuerySet.as_manager()

    class Meta:
        verbose_name = _("patrol record")
        verbose_name_plural = _("patrol log")
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["region", "occurred_at"]),
            # governance.media finds the record of a photo by its stored path.
            models.Index(fields=["photo"], name="patrol_photo_idx"),
        ]

    def __str__(self):
        return (
            f"{self.get_kind_display()} · {self.region} · {self.occurred_at:%Y-%m-%d}"
        )


class Notification(models.Model):
    """A message in a user's in-app inbox. ``channel`` lets an SMS or WeChat sender
    pick up its own rows later; only the in-app inbox is shown today."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    channel = models.CharField(
        _("channel"),
        max_length=16,
        choices=NotificationChannel.choices,
        default=NotificationChannel.IN_APP,
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # What the message is about, e.g. "ticket:42:escalation:3", so a job that runs
    # twice does not notify twice.
    dedupe_key = models.CharField(_("dedupe key"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "channel", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notification_once_per_key",
            )
        ]

    def __str__(self):
        return self.title


class AuditEntry(AppendOnlyModel):
    """One change of reference data (审计记录): who changed what, when, from what
    to what. Written by the services (``grids.audit.audit_record``), never edited."""

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        verbose_name=_("kind of record"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    object_id = models.CharField(_("record id"), max_length=64)
    object_repr = models.CharField(_("record"), max_length=200)
    # The area the record belongs to (a street's department, a community's
    # prize); empty for lists every area shares. The log is scoped by it.
    region = models.ForeignKey(
        "grids.Region",
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    changes = models.JSONField(
        _("changes"),
        default=dict,
        blank=True,
        help_text=_("Each changed field with its value before and after."),
    )

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "at"], name="audit_object_time"
            )
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.object_repr}"


class DataJob(models.Model):
    """A background import or export (后台导入导出) of regions, the roster,
    households or residents, run by a Celery worker with the submitter's scope.

    An import checks and writes every row of the uploaded file in one
    transaction: any refused row leaves nothing written. The counters are
    updated while it runs so the page can show progress. Files live under
    ``DATA_JOBS_DIR`` (never under MEDIA_ROOT) and are removed after
    ``DATA_JOB_RETENTION_HOURS`` by ``data_jobs_cleanup``.
    """

    kind = models.CharField(_("kind"), max_length=8, choices=DataJobKind.choices)
    resource = models.CharField(_("data"), max_length=20)
    file_format = models.CharField(
        _("file format"), max_length=8, choices=DataJobFormat.choices
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The area the job covers: the submitter's scope for an import, the chosen
    # district, street or community for an export; empty for an administrator's
    # job over everything.
    region = models.ForeignKey(
        Region,
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    language = models.CharField(_("language"), max_length=16)
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=DataJobState.choices,
        default=DataJobState.QUEUED,
    )
    # sha256 of the uploaded bytes (import) or of the options (export): the same
    # submission twice by the same user is one job.
    digest = models.CharField(_("fingerprint"), max_length=64)
    source_name = models.CharField(_("uploaded file"), max_length=255, blank=True)
    source_path = models.CharField(max_length=255, blank=True, editable=False)
    result_path = models.CharField(max_length=255, blank=True, editable=False)
    rows_total = models.PositiveIntegerField(_("rows in total"), default=0)
    rows_checked = models.PositiveIntegerField(_("rows checked"), default=0)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    error_count = models.PositiveIntegerField(_("refused rows"), default=0)
    # [{"row": 9000, "field": "id_number", "message": "…"}], at most
    # DATA_JOB_MAX_ERRORS entries; error_count has the full number.
    row_errors = models.JSONField(_("row errors"), default=list, blank=True)
    message = models.TextField(_("outcome"), blank=True)
    options = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    files_removed_at = models.DateTimeField(
        _("files removed at"), null=True, blank=True
    )

    objects = DataJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import or export job")
        verbose_name_plural = _("import and export jobs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A double submit of the same file (or the same export) while the
            # first is waiting or running is one job; an import that succeeded
            # is not run again for the same bytes while its files are kept.
            models.UniqueConstraint(
                fields=["actor", "kind", "resource", "digest"],
                condition=Q(state__in=["queued", "running"])
                | Q(kind="import", state="succeeded", files_removed_at__isnull=True),
                name="datajob_one_per_submission",
            )
        ]
        indexes = [
            models.Index(fields=["actor", "-created_at"], name="datajob_actor_time"),
            models.Index(fields=["state", "finished_at"], name="datajob_state_time"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.resource} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.state in (DataJobState.SUCCEEDED, DataJobState.FAILED)


class PersonalDataAccess(AppendOnlyModel):
    """One look at personal data (个人信息访问记录): a staff member showed a
    resident's whole ID number or phone, or exported personal data unmasked (or
    more rows than ``PII_EXPORT_REASON_ROWS``). Who, whose, which fields, when,
    why. Written by ``grids.services.personal_data``, never edited."""

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=PersonalDataAccessKind.choices
    )
    # Whose record: a resident for a reveal; for an export, the kind of rows.
    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        verbose_name=_("kind of record"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    object_repr = models.CharField(_("record"), max_length=200)
    # The area of the record (a reveal) or of the exporting account (an export):
    # street staff read the log of their subtree.
    region = models.ForeignKey(
        "grids.Region",
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    fields = models.JSONField(_("fields"), default=list, blank=True)
    unmasked = models.BooleanField(_("unmasked"), default=True)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    reason = models.TextField(_("reason"))

    objects = PersonalDataAccessQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data access log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "at"],
                name="pii_access_object_time",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.object_repr}"


class IdempotencyKey(models.Model):
    """One sent form or API request (幂等键): the key a phone form or an API
    client's ``Idempotency-Key`` header carries, what it asked for and what it
    led to, so that a double tap, a resend or a replay after reconnecting is
    answered with the first outcome instead of doing the work twice.

    Written and read only by ``grids.idempotency`` (the API's replies through
    ``grids.api.idempotency``); purged after
    ``IDEMPOTENCY_KEY_TTL_HOURS`` by the ``grids.tasks.purge_idempotency_keys`` job.
    """

    # Nullable for the public forms (a resident without an account).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    scope = models.CharField(_("form"), max_length=60)
    key = models.CharField(_("key"), max_length=64)
    # sha256 of the form's fields and files (names and sizes), without the key.
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    outcome_url = models.CharField(_("outcome"), max_length=300, blank=True)
    # An API request's first answer (grids.api.idempotency), replayed as it was.
    response_status = models.PositiveSmallIntegerField(
        _("response status"), null=True, blank=True
    )
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "user", "key"],
                condition=Q(user__isnull=False),
                name="idempotency_key_per_user",
            ),
            models.UniqueConstraint(
                fields=["scope", "key"],
                condition=Q(user__isnull=True),
                name="idempotency_key_public",
            ),
        ]

    def __str__(self):
        return f"{self.scope}:{self.key}"


class ApiToken(models.Model):
    """An API token (接口令牌) for a device or an integration, tied to one staff
    account and so to its role and scope.

    The key is shown once, when the token is made; only its public prefix (to
    find the row) and the SHA-256 of the whole key are stored. Written and read
    only by ``grids.services.api_tokens``.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What the token is for.")
    )
    # The key's public part ("gw_" + 12 hex), unique: the row is found by it.
    prefix = models.CharField(_("key prefix"), max_length=20, unique=True)
    # sha256 hex of the whole key; the key itself is never stored.
    key_hash = models.CharField(_("key hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
