"""Reusable reads of the partyorg app: every model is scoped through a Region."""

from django.db.models import Exists, OuterRef, Q
from mptt.managers import TreeManager
from mptt.querysets import TreeQuerySet

from grids.append_only import AppendOnlyQuerySetMixin
from grids.querysets import ScopedQuerySet, scope_q, subtree_q


class PartyOrgQuerySet(TreeQuerySet):
    scope_path = "region"

    def visible_to(self, user):
        return self.filter(scope_q(user, self.scope_path))

    def in_subtree(self, region):
        return self.filter(subtree_q(region, self.scope_path))

    def active(self):
        return self.filter(is_active=True)


class PartyOrgManager(TreeManager.from_queryset(PartyOrgQuerySet)):
    pass


class PartyMemberQuerySet(ScopedQuerySet):
    """A member is seen through their organisation's region, or, for an in-service
    member whose own branch sits at their employer (outside this tree), through an
    active registration at a residence community in scope (双报到)."""

    scope_path = "organisation__region"

    def _with_registration(self, q_for_registration: Q):
        from .models import Registration

        return Exists(
            Registration.objects.filter(
                q_for_registration, member=OuterRef("pk"), is_active=True
            )
        )

    def visible_to(self, user):
        return self.filter(
            scope_q(user, self.scope_path)
            | self._with_registration(scope_q(user, "community"))
        )

    def in_subtree(self, region):
        return self.filter(
            subtree_q(region, self.scope_path)
            | self._with_registration(subtree_q(region, "community"))
        )

    def active(self):
        return self.filter(is_active=True)


class RegistrationQuerySet(ScopedQuerySet):
    scope_path = "community"

    def active(self):
        return self.filter(is_active=True)


class ServiceRecordQuerySet(AppendOnlyQuerySetMixin, ScopedQuerySet):
    """The service log (append-only): no bulk change or deletion."""

    scope_path = "registration__community"


class WishQuerySet(ScopedQuerySet):
    scope_path = "region"


class WishEventQuerySet(AppendOnlyQuerySetMixin, ScopedQuerySet):
    """A wish's log (append-only): no bulk change or deletion."""

    scope_path = "wish__region"
