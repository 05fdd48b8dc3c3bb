"""The points app owns the points-for-prizes scheme (积分超市, 诚信文明奖): the rules
catalogue, per-community policies, accounts, award proposals and their approval,
the append-only ledger, prizes with stock and redemptions.

An account's ``balance`` is a cache of the sum of its ledger entries. It is only
changed by ``points.services`` in the same transaction that inserts the entries,
with the account row locked; ``check_points_ledger`` proves it has not drifted.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.append_only import AppendOnlyModel
from grids.choices import RegionLevel
from grids.history import PrivateHistoricalRecords

from .choices import (
    CREDIT_KINDS,
    DEBIT_KINDS,
    AwardAction,
    AwardStatus,
    CapPeriod,
    EntryKind,
    RedemptionAction,
    RedemptionStatus,
)
from .querysets import (
    AccountQuerySet,
    AwardEventQuerySet,
    AwardQuerySet,
    LedgerQuerySet,
    PolicyQuerySet,
    PrizeQuerySet,
    RedemptionEventQuerySet,
    RedemptionQuerySet,
    RuleItemQuerySet,
)


class CommunityPointsPolicy(models.Model):
    """How one community (社区/村) runs its points supermarket."""

    community = models.OneToOneField(
        "grids.Region",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="points_policy",
        limit_choices_to={"level": RegionLevel.COMMUNITY},
    )
    # 以户为单位: one account per household instead of one per resident.
    pool_by_household = models.BooleanField(
        _("pool points per household"),
        default=False,
        help_text=_(
            "New accounts are opened per household. Existing accounts keep "
            "their balance."
        ),
    )
    # 年末清零
    expire_at_year_end = models.BooleanField(
        _("points expire at year end"), default=False
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("community points policy")
        verbose_name_plural = _("community points policies")

    def __str__(self):
        return str(self.community)

    def clean(self):
        super().clean()
        if self.community_id and self.community.level != RegionLevel.COMMUNITY:
            raise ValidationError(
                {"community": _("A points policy belongs to a community.")}
            )


class RuleCategory(models.Model):
    """A category of the rules catalogue (社会治安, 公益服务, 志愿服务, …)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    history = PrivateHistoricalRecords()

    class Meta:
        verbose_name = _("rule category")
        verbose_name_plural = _("rule categories")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


class RuleItem(models.Model):
    """A service item worth points (积分事项), with an optional cap per resident."""

    category = models.ForeignKey(
        RuleCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="items",
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    points = models.PositiveIntegerField(_("points"))
    cap_count = models.PositiveSmallIntegerField(
        _("cap (times)"),
        null=True,
        blank=True,
        help_text=_("How many times a resident may earn it per period; empty: no cap."),
    )
    cap_period = models.CharField(
        _("cap period"),
        max_length=8,
        choices=CapPeriod.choices,
        blank=True,
    )
    active_from = models.DateField(_("active from"), null=True, blank=True)
    active_until = models.DateField(_("active until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RuleItemQuerySet.as_manager()
    history = PrivateHistoricalRecords()

    class Meta:
        verbose_name = _("rule item")
        verbose_name_plural = _("rule items")
        ordering = ["category__sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(points__gt=0), name="points_ruleitem_points_positive"
            ),
            models.CheckConstraint(
                condition=(Q(cap_count__isnull=True) & Q(cap_period=""))
                | (Q(cap_count__gt=0) & ~Q(cap_period="")),
                name="points_ruleitem_cap_complete",
            ),
            models.CheckConstraint(
                condition=Q(active_until__isnull=True)
                | Q(active_from__isnull=True)
                | Q(active_until__gte=models.F("active_from")),
                name="points_ruleitem_dates_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.points})"

    def clean(self):
        super().clean()
        if bool(self.cap_count) != bool(self.cap_period):
            raise ValidationError(_("Give both the cap and its period, or neither."))
        if (
            self.active_from
            and self.active_until
            and self.active_until < self.active_from
        ):
            raise ValidationError(
                {"active_until": _("The end date lies before the start date.")}
            )

    def is_active_on(self, day) -> bool:
        return (
            self.is_active
            and (self.active_from is None or self.active_from <= day)
            and (self.active_until is None or day <= self.active_until)
        )


class PointsAccount(models.Model):
    """A resident's points account, or a household's when the community pools."""

    household = models.ForeignKey(
        "grids.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="points_accounts",
    )
    # Empty for a pooled household account (以户为单位).
    resident = models.OneToOneField(
        "grids.Resident",
        verbose_name=_("resident"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="points_account",
    )
    balance = models.IntegerField(_("balance"), default=0, editable=False)
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        ordering = ["household_id", "resident_id"]
        constraints = [
            # The last line of defence: a balance is never negative.
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="points_account_balance_not_negative"
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(resident__isnull=True),
                name="points_account_one_pool_per_household",
            ),
        ]

    def __str__(self):
        if self.resident_id:
            return str(self.resident)
        return _("Household %(address)s") % {"address": self.household}

    @property
    def is_pooled(self) -> bool:
        return self.resident_id is None


class Award(models.Model):
    """A proposal to award points (积分申报): proposed by a grid worker, approved
    or rejected by community staff. Only approved awards enter the ledger."""

    resident = models.ForeignKey(
        "grids.Resident",
        verbose_name=_("resident"),
        on_delete=models.PROTECT,
        related_name="points_awards",
    )
    rule_item = models.ForeignKey(
        RuleItem,
        verbose_name=_("rule item"),
        on_delete=models.PROTECT,
        related_name="awards",
    )
    awarded_on = models.DateField(_("date of the deed"))
    # Copied from the rule item when proposed: the price of a deed does not change
    # under a pending proposal.
    points = models.PositiveIntegerField(_("points"))
    note = models.TextField(_("note"), blank=True)
    photo = models.ImageField(_("photo"), upload_to="points/awards/%Y/%m/", blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AwardStatus.choices,
        default=AwardStatus.PROPOSED,
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="points_awards_proposed",
    )
    # The client's key for this proposal: sent twice, it is still one proposal.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64)
    created_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="points_awards_decided",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)

    objects = AwardQuerySet.as_manager()

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["resident", "rule_item", "awarded_on"],
                name="points_award_cap_idx",
            ),
            models.Index(fields=["status"], name="points_award_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["proposed_by", "idempotency_key"],
                name="points_award_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(points__gt=0), name="points_award_points_positive"
            ),
        ]

    def __str__(self):
        return f"{self.resident} · {self.rule_item.name} · {self.awarded_on}"


class Prize(models.Model):
    """A prize of the points supermarket, kept by a community or shared by a street."""

    region = models.ForeignKey(
        "grids.Region",
        verbose_name=_("community or street"),
        on_delete=models.PROTECT,
        related_name="points_prizes",
        limit_choices_to={"level__in": [RegionLevel.COMMUNITY, RegionLevel.STREET]},
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    price = models.PositiveIntegerField(_("price in points"))
    stock = models.IntegerField(_("stock"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PrizeQuerySet.as_manager()
    history = PrivateHistoricalRecords()

    class Meta:
        verbose_name = _("prize")
        verbose_name_plural = _("prizes")
        ordering = ["region_id", "price", "name"]
        constraints = [
            # The last line of defence: stock is never negative.
            models.CheckConstraint(
                condition=Q(stock__gte=0), name="points_prize_stock_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(price__gt=0), name="points_prize_price_positive"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.price})"

    def clean(self):
        super().clean()
        if self.region_id and self.region.level not in (
            RegionLevel.COMMUNITY,
            RegionLevel.STREET,
        ):
            raise ValidationError(
                {"region": _("A prize belongs to a community or a street.")}
            )


class Redemption(models.Model):
    """Points exchanged for a prize (兑换), possibly cancelled later by staff."""

    account = models.ForeignKey(
        PointsAccount,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="redemptions",
    )
    resident = models.ForeignKey(
        "grids.Resident",
        verbose_name=_("resident"),
        on_delete=models.PROTECT,
        related_name="points_redemptions",
    )
    prize = models.ForeignKey(
        Prize,
        verbose_name=_("prize"),
        on_delete=models.PROTECT,
        related_name="redemptions",
    )
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)
    points = models.PositiveIntegerField(_("points"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=RedemptionStatus.choices,
        default=RedemptionStatus.REDEEMED,
    )
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        related_name="points_redemptions_handled",
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("redeemed at"), auto_now_add=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="points_redemptions_cancelled",
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason"), max_length=200, blank=True)

    objects = RedemptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0) & Q(points__gt=0),
                name="points_redemption_positive",
            ),
            models.UniqueConstraint(
                fields=["redeemed_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="points_redemption_unique_idempotency_key",
            ),
        ]

    def __str__(self):
        return f"{self.resident} · {self.prize.name} × {self.quantity}"


class AwardEvent(AppendOnlyModel):
    """One decision in an award's append-only log (提议, 审核): who, when, from
    which state to which, with a note. Written by ``points.services``."""

    award = models.ForeignKey(
        Award, verbose_name=_("award"), on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField(_("action"), max_length=12, choices=AwardAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    from_status = models.CharField(
        _("from status"), max_length=12, choices=AwardStatus.choices, blank=True
    )
    to_status = models.CharField(
        _("to status"), max_length=12, choices=AwardStatus.choices
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = AwardEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("award event")
        verbose_name_plural = _("award events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["award", "at"], name="points_awardevent_idx")]

    def __str__(self):
        return f"{self.get_action_display()} · {self.award_id}"


class RedemptionEvent(AppendOnlyModel):
    """One decision in a redemption's append-only log (兑换, 撤销)."""

    redemption = models.ForeignKey(
        Redemption,
        verbose_name=_("redemption"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    action = models.CharField(
        _("action"), max_length=12, choices=RedemptionAction.choices
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    from_status = models.CharField(
        _("from status"), max_length=12, choices=RedemptionStatus.choices, blank=True
    )
    to_status = models.CharField(
        _("to status"), max_length=12, choices=RedemptionStatus.choices
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = RedemptionEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("redemption event")
        verbose_name_plural = _("redemption events")
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["redemption", "at"], name="points_redemptionevent_idx")
        ]

    def __str__(self):
        return f"{self.get_action_display()} · {self.redemption_id}"


class LedgerEntry(AppendOnlyModel):
    """One booking on an account. Append-only: never edited, never deleted; a
    mistake is corrected by a new entry (a reversal)."""

    account = models.ForeignKey(
        PointsAccount,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="entries",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EntryKind.choices)
    amount = models.IntegerField(_("points"))
    # The same award is never booked twice: one-to-one.
    award = models.OneToOneField(
        Award,
        verbose_name=_("award"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entry",
    )
    redemption = models.ForeignKey(
        Redemption,
        verbose_name=_("redemption"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    expiry_year = models.PositiveSmallIntegerField(
        _("expired year"), null=True, blank=True
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(
        _("booked at"), default=timezone.now, editable=False, db_index=True
    )

    objects = LedgerQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind__in=CREDIT_KINDS) & Q(amount__gt=0))
                | (Q(kind__in=DEBIT_KINDS) & Q(amount__lt=0)),
                name="points_ledger_sign_follows_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind=EntryKind.AWARD, award__isnull=False)
                | (~Q(kind=EntryKind.AWARD) & Q(award__isnull=True)),
                name="points_ledger_award_reference",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[EntryKind.REDEMPTION, EntryKind.REVERSAL],
                    redemption__isnull=False,
                )
                | (
                    ~Q(kind__in=[EntryKind.REDEMPTION, EntryKind.REVERSAL])
                    & Q(redemption__isnull=True)
                ),
                name="points_ledger_redemption_reference",
            ),
            models.CheckConstraint(
                condition=Q(kind=EntryKind.EXPIRY, expiry_year__isnull=False)
                | (~Q(kind=EntryKind.EXPIRY) & Q(expiry_year__isnull=True)),
                name="points_ledger_expiry_year",
            ),
            # A redemption is booked once and reversed at most once.
            models.UniqueConstraint(
                fields=["redemption", "kind"],
                condition=Q(redemption__isnull=False),
                name="points_ledger_once_per_redemption",
            ),
            # A year expires once per account, however often the job runs.
            models.UniqueConstraint(
                fields=["account", "expiry_year"],
                condition=Q(kind=EntryKind.EXPIRY),
                name="points_ledger_expiry_once_per_year",
            ),
        ]
        indexes = [
            models.Index(
                fields=["account", "created_at"], name="points_ledger_account_time"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount:+d}"
