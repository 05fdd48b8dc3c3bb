"""A platform's category code and area code / address → our category and
Region, from the tables staff keep in the admin (``HotlineCategoryMapping``,
``HotlineAreaMapping``). A miss is not an error: the ticket lands in the
street's triage queue, flagged (``TriageFlag``)."""

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Length

from .models import HotlineAreaMapping, HotlineCategoryMapping, HotlinePlatform


def category_for(platform: HotlinePlatform, code: str):
    """Our active category for the platform's ``code``, or None."""
    if not code:
        return None
    mapping = (
        HotlineCategoryMapping.objects.filter(
            platform=platform, code=code, category__is_active=True
        )
        .select_related("category")
        .first()
    )
    return mapping.category if mapping else None


def region_for(platform: HotlinePlatform, *, area_code: str, address: str):
    """The Region for a push: the mapping of its area code, else the one whose
    address prefix is the longest prefix of ``address``; None when neither
    matches, or when the match lies outside the platform's area (its region
    changed since the mapping was made). One query."""
    condition = Q()
    if area_code:
        condition |= Q(area_code=area_code)
    if address:
        condition |= Q(address_prefix__gt="", given__startswith=F("address_prefix"))
    if not condition:
        return None
    mapping = (
        HotlineAreaMapping.objects.filter(platform=platform)
        .annotate(given=Value(address))
        .filter(condition)
        .annotate(
            by_code=Case(
                When(area_code=area_code or None, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            prefix_length=Length("address_prefix"),
        )
        .order_by("by_code", "-prefix_length", "pk")
        .select_related("region")
        .first()
    )
    if mapping is None or not platform.region.contains(mapping.region):
        return None
    return mapping.region
