"""Choices of the points app (积分超市): award and redemption states, ledger kinds,
cap periods. Allowed transitions are data next to each state class."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CapPeriod(models.TextChoices):
    """The period over which a rule item's cap per resident is counted."""

    DAY = "day", _("per day")  # 每日
    WEEK = "week", _("per week")  # 每周 (Monday to Sunday)
    MONTH = "month", _("per month")  # 每月
    YEAR = "year", _("per year")  # 每年


class AwardStatus(models.TextChoices):
    # 待审核: a grid worker proposed it; no points are booked yet.
    PROPOSED = "proposed", _("Proposed")
    # 已通过: community staff approved it; its points are in the ledger.
    APPROVED = "approved", _("Approved")
    # 已驳回: community staff rejected it; nothing is booked.
    REJECTED = "rejected", _("Rejected")


AWARD_TRANSITIONS = {
    AwardStatus.PROPOSED: {AwardStatus.APPROVED, AwardStatus.REJECTED},
    AwardStatus.APPROVED: set(),
    AwardStatus.REJECTED: set(),
}


class RedemptionStatus(models.TextChoices):
    # 已兑换: points taken and the prize handed over at the points supermarket.
    REDEEMED = "redeemed", _("Redeemed")
    # 已撤销: staff cancelled it; a reversing entry returned the points and stock.
    CANCELLED = "cancelled", _("Cancelled")


REDEMPTION_TRANSITIONS = {
    RedemptionStatus.REDEEMED: {RedemptionStatus.CANCELLED},
    RedemptionStatus.CANCELLED: set(),
}


class EntryKind(models.TextChoices):
    """What a ledger entry books; the sign of its amount follows from the kind."""

    AWARD = "award", _("Award")  # 积分奖励 (+)
    REDEMPTION = "redemption", _("Redemption")  # 兑换奖品 (−)
    REVERSAL = "reversal", _("Reversal of a redemption")  # 撤销兑换 (+)
    EXPIRY = "expiry", _("Year-end expiry")  # 年末清零 (−)


CREDIT_KINDS = (EntryKind.AWARD, EntryKind.REVERSAL)
DEBIT_KINDS = (EntryKind.REDEMPTION, EntryKind.EXPIRY)
