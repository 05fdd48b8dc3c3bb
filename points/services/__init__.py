"""Writes of the points app: one function per use case, split by family.

Every booking goes through here: awards (propose, approve, reject), redemptions
(redeem, cancel), year-end expiry, prizes and policies, the rules catalogue.
The balance of an account changes only here, in the transaction that inserts its
ledger entries, with the account row locked. Locks are taken in one order: award
or redemption first, then the account, then the prize; so two bookings never
wait on each other in a circle.
"""

from .accounts import MAX_KEY_LENGTH
from .awards import (
    award_approve,
    award_bulk_approve,
    award_propose,
    award_reject,
    check_deed_date,
    deed_date_window,
    deed_max_age_days,
)
from .catalogue import (
    RULE_CATEGORY_FIELDS,
    RULE_ITEM_FIELDS,
    rule_category_create,
    rule_category_deactivate,
    rule_category_update,
    rule_item_create,
    rule_item_deactivate,
    rule_item_update,
)
from .expiry import EXPIRY_CHUNK_SIZE, points_expire_year
from .prizes import (
    MAX_STOCK,
    PRIZE_EDITABLE_FIELDS,
    policy_set,
    prize_adjust_stock,
    prize_create,
    prize_deactivate,
    prize_update,
)
from .redemptions import redemption_cancel, redemption_create

__all__ = [
    "EXPIRY_CHUNK_SIZE",
    "MAX_KEY_LENGTH",
    "MAX_STOCK",
    "PRIZE_EDITABLE_FIELDS",
    "RULE_CATEGORY_FIELDS",
    "RULE_ITEM_FIELDS",
    "award_approve",
    "award_bulk_approve",
    "award_propose",
    "award_reject",
    "check_deed_date",
    "deed_date_window",
    "deed_max_age_days",
    "points_expire_year",
    "policy_set",
    "prize_adjust_stock",
    "prize_create",
    "prize_deactivate",
    "prize_update",
    "redemption_cancel",
    "redemption_create",
    "rule_category_create",
    "rule_category_deactivate",
    "rule_category_update",
    "rule_item_create",
    "rule_item_deactivate",
    "rule_item_update",
]
