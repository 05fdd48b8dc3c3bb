"""Reusable reads of the points app: scope paths and the common filters."""

from django.db import models
from django.db.models import Q

from grids.append_only import AppendOnlyQuerySetMixin
from grids.querysets import ScopedQuerySet, ancestors_or_self_q


class PolicyQuerySet(ScopedQuerySet):
    scope_path = "community"


class RuleItemQuerySet(models.QuerySet):
    def active_on(self, day):
        return self.filter(
            Q(is_active=True),
            Q(category__is_active=True),
            Q(active_from__isnull=True) | Q(active_from__lte=day),
            Q(active_until__isnull=True) | Q(active_until__gte=day),
        )


class AccountQuerySet(ScopedQuerySet):
    scope_path = "household__region"


class AwardQuerySet(ScopedQuerySet):
    scope_path = "resident__household__region"


class LedgerQuerySet(AppendOnlyQuerySetMixin, ScopedQuerySet):
    """The ledger is append-only: a queryset refuses bulk updates and deletes."""

    scope_path = "account__household__region"


class AwardEventQuerySet(AppendOnlyQuerySetMixin, ScopedQuerySet):
    scope_path = "award__resident__household__region"


class RedemptionEventQuerySet(AppendOnlyQuerySetMixin, ScopedQuerySet):
    scope_path = "redemption__account__household__region"


class PrizeQuerySet(ScopedQuerySet):
    scope_path = "region"

    def active(self):
        return self.filter(is_active=True)

    def available_in(self, region):
        """Prizes of ``region``'s community or street (its ancestors or itself)."""
        return self.filter(ancestors_or_self_q(region, "region"))


class RedemptionQuerySet(ScopedQuerySet):
    scope_path = "account__household__region"
