"""Reads of the hotline integration, scoped to the user: the pushes and
callbacks of the tickets they may see, the platforms serving their area."""

from django.db.models import Q

from grids.querysets import ancestors_or_self_q, scope_q

from ..querysets import ticket_scope_q
from .models import (
    HotlineAreaMapping,
    HotlineCategoryMapping,
    HotlineDelivery,
    HotlineInbound,
    HotlinePlatform,
)


def _nothing(user) -> bool:
    return user is None or not user.is_authenticated or not user.is_active


def platforms_visible_to(user):
    """Platforms whose area lies in the user's, or holds the user's area."""
    qs = HotlinePlatform.objects.select_related("region")
    if _nothing(user):
        return qs.none()
    if user.is_superuser:
        return qs
    if user.scope_region is None:
        return qs.none()
    return qs.filter(
        scope_q(user, "region") | ancestors_or_self_q(user.scope_region, "region")
    )


def _platform_in(user, prefix: str) -> Q:
    ids = platforms_visible_to(user).values("pk")
    return Q(**{f"{prefix}__in": ids})


def category_mappings_visible_to(user):
    qs = HotlineCategoryMapping.objects.select_related("platform", "category")
    if _nothing(user):
        return qs.none()
    return qs if user.is_superuser else qs.filter(_platform_in(user, "platform"))


def area_mappings_visible_to(user):
    """The mappings onto places in the user's area."""
    qs = HotlineAreaMapping.objects.select_related("platform", "region")
    if _nothing(user):
        return qs.none()
    if user.is_superuser:
        return qs
    return qs.filter(_platform_in(user, "platform")).filter(scope_q(user, "region"))


def inbound_visible_to(user):
    qs = HotlineInbound.objects.select_related("platform", "ticket")
    if _nothing(user):
        return qs.none()
    return qs.filter(ticket__isnull=False).filter(ticket_scope_q(user, "ticket"))


def deliveries_visible_to(user):
    qs = HotlineDelivery.objects.select_related("platform", "ticket")
    if _nothing(user):
        return qs.none()
    return qs.filter(ticket_scope_q(user, "ticket"))
