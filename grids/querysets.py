"""Reusable reads of the grids app, above all the user's scope.

Scope is one rule: a staff user sees the subtree of their Region node. It is a
range condition on the MPTT columns (``tree_id``, ``lft``, ``rght``), so any model
with a foreign key to Region is filtered with one join and no loop over children.
"""

from django.db import models
from django.db.models import Q
from mptt.managers import TreeManager
from mptt.querysets import TreeQuerySet

from .append_only import AppendOnlyQuerySetMixin


def subtree_q(region, prefix: str = "") -> Q:
    """Rows whose region (reached through ``prefix``) lies in ``region``'s subtree."""
    p = f"{prefix}__" if prefix else ""
    return Q(
        **{
            f"{p}tree_id": region.tree_id,
            f"{p}lft__gte": region.lft,
            f"{p}rght__lte": region.rght,
        }
    )


def ancestors_or_self_q(region, prefix: str = "") -> Q:
    """Rows whose region (reached through ``prefix``) is ``region`` or one of its
    ancestors: e.g. the prizes or departments that serve a place."""
    p = f"{prefix}__" if prefix else ""
    return Q(
        **{
            f"{p}tree_id": region.tree_id,
            f"{p}lft__lte": region.lft,
            f"{p}rght__gte": region.rght,
        }
    )


def scope_q(user, prefix: str = "") -> Q:
    """The condition for what ``user`` may see, through the Region path ``prefix``.

    ``prefix`` is the lookup path from the filtered model to Region, e.g.
    ``"region"`` or ``"household__region"``; empty for Region itself. A superuser
    sees everything; a user without a Region sees nothing.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    region = user.scope_region
    if region is None:
        return Q(pk__in=[])
    return subtree_q(region, prefix)


class ScopedQuerySet(models.QuerySet):
    """A queryset of rows that belong to a Region through ``scope_path``."""

    scope_path = "region"

    def visible_to(self, user):
        return self.filter(scope_q(user, self.scope_path))

    def in_subtree(self, region):
        return self.filter(subtree_q(region, self.scope_path))


class RegionQuerySet(TreeQuerySet):
    def visible_to(self, user):
        return self.filter(scope_q(user))

    def in_subtree(self, region):
        return self.filter(subtree_q(region))

    def active(self):
        return self.filter(is_active=True)


class RegionManager(TreeManager.from_queryset(RegionQuerySet)):
    pass


class HouseholdQuerySet(ScopedQuerySet):
    scope_path = "region"


class ResidentQuerySet(ScopedQuerySet):
    scope_path = "household__region"

    def active(self):
        return self.filter(is_active=True)

    def with_id_number(self, id_number: str):
        """The resident with this ID-card number, found by its keyed hash (the
        number itself is stored encrypted and cannot be looked up)."""
        from .pii import blind_index

        digest = blind_index(id_number)
        return self.filter(id_number_hash=digest) if digest else self.none()


class AssignmentQuerySet(ScopedQuerySet):
    scope_path = "grid"

    def current(self, on=None):
        from django.utils import timezone

        on = on or timezone.localdate()
        return self.filter(started_on__lte=on).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=on)
        )


class GridWorkerQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Workers put on the roster in the user's area (``home_region``) or with
        a stint, current or past, on a grid in it."""
        from .models import GridAssignment

        if user is not None and user.is_authenticated and user.is_superuser:
            return self.all()
        stint_here = GridAssignment.objects.visible_to(user).filter(
            worker=models.OuterRef("pk")
        )
        return self.filter(scope_q(user, "home_region") | Q(models.Exists(stint_here)))


class PatrolQuerySet(ScopedQuerySet):
    scope_path = "region"


class DataJobQuerySet(models.QuerySet):
    """Background imports and exports: a job is its submitter's own. Staff see
    their own jobs whose area still lies in their scope (a narrowed scope hides
    the jobs of the wider area); administrators see every job."""

    def visible_to(self, user):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(scope_q(user, "region"), actor=user)


class PersonalDataAccessQuerySet(AppendOnlyQuerySetMixin, ScopedQuerySet):
    """The access log of personal data: scoped by the area whose data it was."""

    scope_path = "region"
