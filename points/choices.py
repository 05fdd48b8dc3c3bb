"""Choices of the points app (积分超市): award and redemption states, ledger kinds,
cap periods. Allowed transitions are data: one action-keyed table per state class."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CapPeriod(models.TextChoices):
    """The period over which a rule item's cap per resident is counted."""

    DAY = "day", _("per day")  # 每日
    WEEK = "week", _("per week")  # 每周 (Monday to Sunday)
    MONTH = "month", _("per month")  # 每月
    YEAR = "year", _("per year")  # 每年


class AwardStatus(models.TextChoices):
    # 待审核: a grid worker proposed it (网格员提议); no points are booked yet.
    PROPOSED = "proposed", _("Proposed")
    # 已通过: community staff approved it (社区审核通过); its points are in the ledger.
    APPROVED = "approved", _("Approved")
    # 已驳回: community staff rejected it (社区审核驳回); nothing is booked.
    REJECTED = "rejected", _("Rejected")


class AwardAction(models.TextChoices):
    """What an event in an award's log records."""

    PROPOSE = "propose", _("Proposal made")  # 网格员提议 (积分申报)
    APPROVE = "approve", _("Proposal approved")  # 社区审核通过
    REJECT = "reject", _("Proposal rejected")  # 社区审核驳回


# Each action on an existing award: the states it starts from and the state it
# leads to. A proposal (PROPOSE) creates the award in PROPOSED.
AWARD_TRANSITIONS = {
    # 社区审核通过: staff of the resident's community (or street) approve; the
    # points are booked.
    AwardAction.APPROVE: ({AwardStatus.PROPOSED}, AwardStatus.APPROVED),
    # 社区审核驳回: the same staff reject, with a reason; nothing is booked.
    AwardAction.REJECT: ({AwardStatus.PROPOSED}, AwardStatus.REJECTED),
}


class RedemptionStatus(models.TextChoices):
    # 已兑换: points taken and the prize handed over at the points supermarket.
    REDEEMED = "redeemed", _("Redeemed")
    # 已撤销: staff cancelled it; a reversing entry returned the points and stock.
    CANCELLED = "cancelled", _("Cancelled")


class RedemptionAction(models.TextChoices):
    """What an event in a redemption's log records."""

    REDEEM = "redeem", _("Prize redeemed")  # 兑换奖品
    CANCEL = "cancel", _("Redemption cancelled")  # 撤销兑换


# Each action on an existing redemption: start states → the state it leads to.
# REDEEM creates the redemption in REDEEMED.
REDEMPTION_TRANSITIONS = {
    # 撤销兑换: staff give the points and the stock back with a reversing entry.
    RedemptionAction.CANCEL: ({RedemptionStatus.REDEEMED}, RedemptionStatus.CANCELLED),
}


def allowed_states(transitions) -> dict[str, set[str]]:
    """The state graph (state → states it may move to), derived from an
    action-keyed table."""
    graph: dict[str, set[str]] = {}
    for from_states, to_state in transitions.values():
        for state in from_states:
            graph.setdefault(state, set()).add(to_state)
    return graph


AWARD_ALLOWED = {status: set() for status in AwardStatus} | allowed_states(
    AWARD_TRANSITIONS
)
REDEMPTION_ALLOWED = {status: set() for status in RedemptionStatus} | allowed_states(
    REDEMPTION_TRANSITIONS
)


class EntryKind(models.TextChoices):
    """What a ledger entry books; the sign of its amount follows from the kind."""

    AWARD = "award", _("Award")  # 积分奖励 (+)
    REDEMPTION = "redemption", _("Redemption")  # 兑换奖品 (−)
    REVERSAL = "reversal", _("Reversal of a redemption")  # 撤销兑换 (+)
    EXPIRY = "expiry", _("Year-end expiry")  # 年末清零 (−)


CREDIT_KINDS = (EntryKind.AWARD, EntryKind.REVERSAL)
DEBIT_KINDS = (EntryKind.REDEMPTION, EntryKind.EXPIRY)
