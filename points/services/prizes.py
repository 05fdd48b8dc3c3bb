"""Prizes of the points supermarket and the communities' points policies.

Every change is validated, checked against the actor's scope and logged with an
audit entry (``grids.audit``) in its transaction. Stock changes relatively
(``prize_adjust_stock``), so an adjustment never overwrites a redemption.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from grids.audit import audit_record, diff, field_values
from grids.choices import AuditAction, RegionLevel
from grids.cleaning import validated_save
from grids.errors import Conflict, DomainError
from grids.history import records_actor
from grids.models import Region
from grids.permissions import require, require_in_scope

from .. import permissions
from ..models import CommunityPointsPolicy, Prize

PRIZE_EDITABLE_FIELDS = ("name", "description", "price", "is_active")
PRIZE_AUDITED_FIELDS = ("region", "name", "description", "price", "stock", "is_active")
POLICY_AUDITED_FIELDS = ("pool_by_household", "expire_at_year_end")
# The most a prize's stock may hold (far below the 32-bit column's limit).
MAX_STOCK = 1_000_000


def _stock_bound_error():
    return DomainError(
        _("The stock must stay between 0 and %(max)d.") % {"max": MAX_STOCK},
        code="invalid",
        extra={"max": MAX_STOCK},
    )


def _require_prize_region(actor, region: Region) -> None:
    require_in_scope(actor, region)
    if region.level not in (RegionLevel.COMMUNITY, RegionLevel.STREET):
        raise DomainError(
            _("A prize belongs to a community or a street."), code="invalid"
        )


def _locked_prize(actor, prize_id) -> Prize:
    prize = (
        Prize.objects.select_for_update(of=("self",))
        .select_related("region")
        .filter(pk=prize_id)
        .first()
    )
    require_in_scope(actor, prize.region if prize else None)
    return prize


@records_actor
def prize_create(
    *,
    actor,
    region: Region,
    name: str,
    price: int,
    stock: int = 0,
    description: str = "",
    is_active: bool = True,
) -> Prize:
    require(permissions.can_manage_prizes(actor))
    _require_prize_region(actor, region)
    if price is None or price < 1 or stock is None or stock < 0:
        raise DomainError(
            _("The price must be positive and the stock not negative."),
            code="invalid",
        )
    if stock > MAX_STOCK:
        raise _stock_bound_error()
    prize = Prize(
        region=region,
        name=(name or "").strip(),
        description=(description or "").strip(),
        price=price,
        stock=stock,
        is_active=is_active,
    )
    with transaction.atomic():
        validated_save(prize)
        audit_record(
            actor=actor,
            instance=prize,
            action=AuditAction.CREATE,
            changes=diff({}, field_values(prize, PRIZE_AUDITED_FIELDS)),
        )
    return prize


@records_actor
def prize_update(*, actor, prize_id: int, **changes) -> Prize:
    """Change a prize's own fields. Its stock changes by ``prize_adjust_stock``."""
    unknown = set(changes) - set(PRIZE_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            _("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    require(permissions.can_manage_prizes(actor))
    with transaction.atomic():
        prize = _locked_prize(actor, prize_id)
        if "price" in changes and (changes["price"] is None or changes["price"] < 1):
            raise DomainError(_("The price must be positive."), code="invalid")
        before = field_values(prize, PRIZE_EDITABLE_FIELDS)
        for field, value in changes.items():
            setattr(prize, field, value.strip() if isinstance(value, str) else value)
        changed = diff(before, field_values(prize, PRIZE_EDITABLE_FIELDS))
        if changed:
            validated_save(prize, update_fields=list(changed))
            audit_record(
                actor=actor,
                instance=prize,
                action=(
                    AuditAction.DEACTIVATE
                    if changed.get("is_active") == [True, False]
                    else AuditAction.UPDATE
                ),
                changes=changed,
            )
    return prize


@records_actor
def prize_deactivate(*, actor, prize_id: int) -> Prize:
    """Take a prize off the shelf (it stays in the redemptions that name it)."""
    return prize_update(actor=actor, prize_id=prize_id, is_active=False)


@records_actor
def prize_adjust_stock(*, actor, prize_id: int, delta: int) -> Prize:
    """Add (or take back) stock; relative, so it never overwrites a redemption."""
    require(permissions.can_manage_prizes(actor))
    if not isinstance(delta, int) or abs(delta) > MAX_STOCK:
        raise _stock_bound_error()
    with transaction.atomic():
        prize = _locked_prize(actor, prize_id)
        if prize.stock + delta > MAX_STOCK:
            raise _stock_bound_error()
        if prize.stock + delta < 0:
            raise Conflict(
                _("Only %(stock)d left of this prize.") % {"stock": prize.stock},
                code="out_of_stock",
            )
        before = prize.stock
        prize.stock += delta
        prize.save(update_fields=["stock"])
        if delta:
            audit_record(
                actor=actor,
                instance=prize,
                action=AuditAction.UPDATE,
                changes={"stock": [before, prize.stock]},
            )
    return prize


def policy_set(
    *,
    actor,
    community: Region,
    pool_by_household: bool,
    expire_at_year_end: bool,
) -> CommunityPointsPolicy:
    """Set a community's points policy (pooling per household, year-end expiry)."""
    require(permissions.can_manage_policy(actor))
    require_in_scope(actor, community)
    if community.level != RegionLevel.COMMUNITY:
        raise DomainError(_("A points policy belongs to a community."), code="invalid")
    with transaction.atomic():
        policy, created = (
            CommunityPointsPolicy.objects.select_for_update().get_or_create(
                community=community
            )
        )
        before = {} if created else field_values(policy, POLICY_AUDITED_FIELDS)
        policy.pool_by_household = pool_by_household
        policy.expire_at_year_end = expire_at_year_end
        policy.save(
            update_fields=["pool_by_household", "expire_at_year_end", "updated_at"]
        )
        changed = diff(before, field_values(policy, POLICY_AUDITED_FIELDS))
        if created or changed:
            audit_record(
                actor=actor,
                instance=policy,
                action=AuditAction.CREATE if created else AuditAction.UPDATE,
                changes=changed,
            )
    return policy
