"""Reusable reads of tickets: scope, open and overdue filters.

A ticket is in a user's scope when its place or its handling community lies in
the user's subtree, when the user is its handler, or when it is dispatched to a
department the user belongs to.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from grids.append_only import AppendOnlyQuerySetMixin
from grids.querysets import ScopedQuerySet, ancestors_or_self_q, scope_q, subtree_q

from .places import PLACE_COLUMNS, UNIT_COLUMNS


def ticket_scope_q(user, prefix: str = "") -> Q:
    """The tickets ``user`` may see, as a condition on plain columns (no join,
    so no duplicate rows): its place or its handling unit in the user's subtree,
    the user as handler, or a department the user belongs to.

    The subtree is compared on the scope columns (``tickets.places``): one
    equality per branch, ``place_<level> = node OR unit_<level> = node``, which
    the list indexes serve for any size of scope. A scope of a level without
    columns (an area, a building: small subtrees) uses the MPTT range. Equal to
    the MPTT rule on ``region`` and ``handling_region``
    (tests/tickets/test_scope_rule.py). Costs one small read (the user's
    departments).
    """
    p = f"{prefix}__" if prefix else ""
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    condition = Q(**{f"{p}handler": user})
    department_ids = list(user.ticket_departments.values_list("pk", flat=True))
    if department_ids:
        condition |= Q(**{f"{p}handling_department__in": department_ids})
    region = user.scope_region
    if region is not None:
        if region.level in PLACE_COLUMNS:
            condition |= Q(**{f"{p}{PLACE_COLUMNS[region.level]}": region.pk}) | Q(
                **{f"{p}{UNIT_COLUMNS[region.level]}": region.pk}
            )
        else:
            condition |= scope_q(user, f"{p}region") | scope_q(
                user, f"{p}handling_region"
            )
    return condition


def ticket_scope_mptt_q(user, prefix: str = "") -> Q:
    """The same rule on the MPTT ranges of ``region`` and ``handling_region``:
    the definition ``ticket_scope_q`` is proved equal to (a join per branch;
    too slow for lists, kept for the proof)."""
    p = f"{prefix}__" if prefix else ""
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    condition = Q(**{f"{p}handler": user}) | Q(
        **{f"{p}handling_department__members": user}
    )
    if user.scope_region is not None:
        condition |= scope_q(user, f"{p}region") | scope_q(user, f"{p}handling_region")
    return condition


def open_deadline_q() -> Q:
    """Tickets whose stage deadline someone must meet (the escalating stages)."""
    from .choices import ESCALATING_STAGES

    return Q(stage__in=sorted(ESCALATING_STAGES))


def overdue_q(now=None) -> Q:
    """Past the stage deadline in a stage that escalates: the one overdue rule."""
    return open_deadline_q() & Q(stage_deadline__lt=now or timezone.now())


class TicketQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Sets each row's scope columns (``Ticket.save`` does for one row)."""
        objs = list(objs)
        for obj in objs:
            obj.set_scope_columns()
        return super().bulk_create(objs, *args, **kwargs)

    def visible_to(self, user):
        return self.filter(ticket_scope_q(user))

    def in_subtree(self, region):
        return self.filter(subtree_q(region, "region"))

    def open(self):
        from .choices import OPEN_STAGES

        return self.filter(stage__in=OPEN_STAGES)

    def overdue(self, now=None):
        return self.filter(overdue_q(now))


class TicketEventQuerySet(AppendOnlyQuerySetMixin, models.QuerySet):
    """The append-only log (bulk ``update``/``delete`` refused); read through
    ``selectors.ticket_timeline``."""


class HandlingLimitQuerySet(models.QuerySet):
    """Deadline classes: shared ones (no region) and a street's own, which serve
    its subtree only."""

    def active(self):
        return self.filter(is_active=True)

    def usable_in(self, region):
        """Active classes a ticket placed in ``region`` may take: shared ones and
        those of ``region`` or a node above it."""
        condition = Q(region__isnull=True)
        if region is not None:
            condition |= ancestors_or_self_q(region, "region")
        return self.active().filter(condition)

    def visible_to(self, user):
        """What ``user`` reads: shared classes, those serving the user's node
        (a community sees its street's) and those inside the user's area."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        region = user.scope_region
        if region is None:
            return self.filter(region__isnull=True)
        return self.filter(
            Q(region__isnull=True)
            | ancestors_or_self_q(region, "region")
            | subtree_q(region, "region")
        )

    def kept_by(self, user):
        """The classes ``user`` may change: a street's own, inside the user's area;
        shared ones are the administrator's."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(region__isnull=False).filter(scope_q(user, "region"))


class DepartmentQuerySet(ScopedQuerySet):
    scope_path = "region"

    def active(self):
        return self.filter(is_active=True)

    def serving(self, region):
        """Departments that may be sent a ticket placed in ``region``: shared ones
        (no region) and those whose region holds ``region`` (ancestor or self)."""
        return self.filter(_serving_q(region))

    def dispatchable_by(self, user):
        """Departments ``user`` could dispatch some ticket of their area to: shared
        ones, those serving the user's node or above it, and those inside it. The
        service checks each ticket's place (``department_serves``)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        region = user.scope_region
        if region is None:
            return self.none()
        return self.filter(_serving_q(region) | subtree_q(region, "region"))


def _serving_q(region) -> Q:
    return Q(region__isnull=True) | ancestors_or_self_q(region, "region")
