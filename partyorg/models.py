"""The partyorg app owns the party organisation tree laid over the grids
(支部建在网格上), party members, in-service members' registration at their
residence community with their service log (在职党员双报到), and micro-wishes
(微心愿) with their append-only event log."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey

from grids.append_only import AppendOnlyModel
from grids.choices import GRID_LEVELS, RegionLevel
from grids.history import PrivateHistoricalRecords
from grids.masking import mask_name, mask_phone
from grids.validators import validate_mainland_phone

from .choices import (
    ALLOWED_CHILD_TYPES,
    ALLOWED_REGION_LEVELS,
    OPEN_WISH_STATES,
    OrgType,
    WishAction,
    WishState,
)
from .querysets import (
    PartyMemberQuerySet,
    PartyOrgManager,
    RegistrationQuerySet,
    ServiceRecordQuerySet,
    WishEventQuerySet,
    WishQuerySet,
)


class PartyOrg(MPTTModel):
    """A party organisation (党组织) and the Region node it covers."""

    parent = TreeForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    name = models.CharField(_("name"), max_length=100)
    org_type = models.CharField(_("type"), max_length=24, choices=OrgType.choices)
    region = models.ForeignKey(
        "grids.Region",
        verbose_name=_("region covered"),
        on_delete=models.PROTECT,
        related_name="party_orgs",
    )
    secretary = models.CharField(
        _("secretary / leader"), max_length=50, blank=True
    )  # 书记 / 组长
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PartyOrgManager()
    history = PrivateHistoricalRecords()

    class MPTTMeta:
        # Same convention as grids.Region: MPTT's depth is ``depth``.
        level_attr = "depth"
        order_insertion_by = ["name"]

    class Meta:
        verbose_name = _("party organisation")
        verbose_name_plural = _("party organisations")
        indexes = [models.Index(fields=["org_type"], name="partyorg_type_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="partyorg_unique_name_per_parent"
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.org_type not in OrgType.values:
            return  # the field's own error says so
        error = self.placement_error(
            org_type=self.org_type,
            region=self.region if self.region_id else None,
            parent=self.parent if self.parent_id else None,
        )
        if error:
            raise ValidationError(error)

    @staticmethod
    def placement_error(*, org_type, region, parent):
        """Why an organisation of ``org_type`` covering ``region`` cannot hang under
        ``parent`` (None: a root), or None when it can."""
        if org_type not in OrgType.values:
            return _("Choose the type of the organisation.")
        parent_type = parent.org_type if parent is not None else None
        if org_type not in ALLOWED_CHILD_TYPES.get(parent_type, set()):
            return _("A %(type)s cannot be placed under %(parent)s.") % {
                "type": OrgType(org_type).label,
                "parent": OrgType(parent_type).label if parent_type else _("the root"),
            }
        if region is None:
            return None
        if region.level not in ALLOWED_REGION_LEVELS[OrgType(org_type)]:
            return _("A %(type)s cannot cover a %(level)s.") % {
                "type": OrgType(org_type).label,
                "level": RegionLevel(region.level).label,
            }
        if parent is not None and not parent.region.contains(region):
            return _("The region must lie inside the parent organisation's region.")
        return None


class PartyMember(models.Model):
    """A party member (党员). In-service members (在职党员) belong to a branch at
    their employer, usually outside this tree: ``organisation`` may then be empty
    and they are seen through their registration at a residence community."""

    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(
        _("phone"), max_length=20, validators=[validate_mainland_phone]
    )
    organisation = models.ForeignKey(
        PartyOrg,
        verbose_name=_("party organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Off when transferred out or deceased.")
    )
    is_in_service = models.BooleanField(_("in service"), default=False)  # 在职党员
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    is_grid_head = models.BooleanField(_("grid head"), default=False)  # 网格长
    is_building_head = models.BooleanField(_("building head"), default=False)  # 楼长
    is_unit_head = models.BooleanField(_("unit head"), default=False)  # 单元长
    grid_worker = models.OneToOneField(
        "grids.GridWorker",
        verbose_name=_("on the grid-worker roster as"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="party_member",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="party_member",
    )

    objects = PartyMemberQuerySet.as_manager()
    history = PrivateHistoricalRecords()

    class Meta:
        verbose_name = _("party member")
        verbose_name_plural = _("party members")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["phone"], name="partymember_unique_phone"),
            models.CheckConstraint(
                condition=Q(is_in_service=False) | ~Q(employer=""),
                name="partymember_in_service_has_employer",
            ),
            models.CheckConstraint(
                condition=Q(organisation__isnull=False) | Q(is_in_service=True),
                name="partymember_has_organisation",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.is_in_service and not self.employer.strip():
            raise ValidationError(
                {"employer": _("An in-service member needs an employer.")}
            )
        if not self.organisation_id and not self.is_in_service:
            raise ValidationError(
                {
                    "organisation": _(
                        "A member who is not in service belongs to an "
                        "organisation of this tree."
                    )
                }
            )

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


class Registration(models.Model):
    """An in-service member's registration at their residence community (双报到)."""

    member = models.ForeignKey(
        PartyMember,
        verbose_name=_("party member"),
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    community = models.ForeignKey(
        "grids.Region",
        verbose_name=_("residence community"),
        on_delete=models.PROTECT,
        related_name="party_registrations",
    )
    registered_on = models.DateField(_("registered on"))
    is_active = models.BooleanField(_("active"), default=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("in-service registration")
        verbose_name_plural = _("in-service registrations")
        ordering = ["-registered_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "community"],
                condition=Q(is_active=True),
                name="registration_one_active_per_community",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(ended_on__gte=models.F("registered_on")),
                name="registration_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.member} · {self.community}"

    def clean(self):
        super().clean()
        if self.community_id and self.community.level != RegionLevel.COMMUNITY:
            raise ValidationError({"community": _("Members register at a community.")})


class ServiceRecord(AppendOnlyModel):
    """One service an in-service member gave at their community (报到服务).
    Append-only: a wrong entry stays in the log (the model, the queryset and a
    PostgreSQL trigger refuse edits and deletions)."""

    registration = models.ForeignKey(
        Registration,
        verbose_name=_("registration"),
        on_delete=models.PROTECT,
        related_name="services",
    )
    task = models.CharField(_("task"), max_length=200)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1)
    served_on = models.DateField(_("date"))
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ServiceRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("service record")
        verbose_name_plural = _("service log")
        ordering = ["-served_on", "-id"]
        indexes = [models.Index(fields=["served_on"], name="servicerecord_date_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0), name="servicerecord_hours_positive"
            )
        ]

    def __str__(self):
        return f"{self.task} · {self.served_on}"


class Wish(models.Model):
    """A resident's micro-wish (微心愿): 群众点单、社区派单、党员接单."""

    region = models.ForeignKey(
        "grids.Region",
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="wishes",
    )
    # The community of ``region``, kept so "registered at this community" is a
    # plain join (set by the service from the region's ancestors).
    community = models.ForeignKey(
        "grids.Region",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="community_wishes",
    )
    title = models.CharField(_("wish"), max_length=200)
    beneficiary = models.CharField(
        _("for whom"),
        max_length=100,
        help_text=_("Who it is for, e.g. an elderly person living alone."),
    )
    resident = models.ForeignKey(
        "grids.Resident",
        verbose_name=_("resident"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="wishes",
    )
    estimated_value = models.DecimalField(
        _("rough value (yuan)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty when the wish needs no money (a service, a visit)."),
    )
    state = models.CharField(
        _("state"), max_length=16, choices=WishState.choices, default=WishState.POSTED
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    posted_at = models.DateTimeField(_("posted at"))
    claimed_by = models.ForeignKey(
        PartyMember,
        verbose_name=_("claimed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claimed_wishes",
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    fulfilment_note = models.TextField(_("fulfilment note"), blank=True)
    photo = models.ImageField(_("photo"), upload_to="wishes/%Y/%m/", blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = WishQuerySet.as_manager()

    class Meta:
        verbose_name = _("micro-wish")
        verbose_name_plural = _("micro-wishes")
        ordering = ["-posted_at", "-id"]
        indexes = [
            models.Index(fields=["state", "posted_at"], name="wish_state_posted_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(estimated_value__isnull=True) | Q(estimated_value__gt=0),
                name="wish_value_positive",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["claimed", "fulfilled", "confirmed"])
                | Q(claimed_by__isnull=False),
                name="wish_claimed_has_member",
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        allowed = {*GRID_LEVELS, RegionLevel.COMMUNITY}
        if self.region_id and self.region.level not in allowed:
            raise ValidationError(
                {"region": _("A wish is posted in a community, grid or building.")}
            )

    @property
    def is_budget_free(self) -> bool:
        return self.estimated_value is None

    @property
    def is_open(self) -> bool:
        """Not yet confirmed, withdrawn or cancelled: a next step may follow."""
        return self.state in OPEN_WISH_STATES


class WishEvent(AppendOnlyModel):
    """One change of a wish, append-only: who, when, from, to, which member. The
    model, the queryset and a PostgreSQL trigger refuse edits and deletions, so a
    wish with a log cannot be deleted either (PROTECT)."""

    wish = models.ForeignKey(
        Wish, verbose_name=_("wish"), on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField(_("action"), max_length=16, choices=WishAction.choices)
    from_state = models.CharField(
        _("from"), max_length=16, choices=WishState.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=16, choices=WishState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    member = models.ForeignKey(
        PartyMember,
        verbose_name=_("party member"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    objects = WishEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("wish event")
        verbose_name_plural = _("wish events")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.wish} · {self.get_action_display()}"


# Community deliberation (议事协商, seed 003) lives in its own subpackage.
from partyorg.deliberation.models import (  # noqa: E402,F401
    Ballot,
    CommunityProfile,
    Council,
    CouncilMember,
    Topic,
    TopicStep,
    VoteItem,
)

from .microprojects.models import (  # noqa: E402,F401
    MicroProject,
    MicroProjectEvent,
    MicroProjectMilestone,
)
from .sites.models import ServiceSite  # noqa: E402,F401
from .whistle.models import Whistle, WhistleCall  # noqa: E402,F401
