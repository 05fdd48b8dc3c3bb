"""A platform's category code and area code / address → our category and
Region, from the tables staff keep in the admin (``HotlineCategoryMapping``,
``HotlineAreaMapping``). A miss is not an error: the ticket lands in the
street's triage queue, flagged (``TriageFlag``)."""

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Length

from grids.prepared import PreparedQuery

from .models import HotlineAreaMapping, HotlineCategoryMapping, HotlinePlatform

# Both run on every push: compiled once (grids.prepared).
_CATEGORY = PreparedQuery(
    lambda platform_id, code: (
        HotlineCategoryMapping.objects.filter(
            platform_id=platform_id, code=code, category__is_active=True
        )
        .select_related("category")
        .order_by()[:1]
    ),
    platform_id=int,
    code=str,
)


def _area_query(*, by_code: bool, by_address: bool) -> PreparedQuery:
    """The area lookup of one shape (an area code given or not, an address
    given or not): the mapping of the code first, else the longest address
    prefix, then the oldest."""
    parameters = {"platform_id": int}
    if by_code:
        parameters["area_code"] = str
    if by_address:
        parameters["address"] = str

    def build(platform_id, area_code=None, address=None):
        condition = Q()
        if by_code:
            condition |= Q(area_code=area_code)
        if by_address:
            condition |= Q(address_prefix__gt="", given__startswith=F("address_prefix"))
        return (
            HotlineAreaMapping.objects.filter(platform_id=platform_id)
            .alias(given=Value(address or ""))
            .filter(condition)
            .alias(
                by_code=Case(
                    When(area_code=area_code, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
                if by_code
                else Value(1),
                prefix_length=Length("address_prefix"),
            )
            .order_by("by_code", "-prefix_length", "pk")
            .select_related("region")[:1]
        )

    return PreparedQuery(build, **parameters)


_AREA = {
    (by_code, by_address): _area_query(by_code=by_code, by_address=by_address)
    for by_code in (False, True)
    for by_address in (False, True)
    if by_code or by_address
}


def category_for(platform: HotlinePlatform, code: str):
    """Our active category for the platform's ``code``, or None."""
    if not code:
        return None
    mapping = _CATEGORY.first(platform_id=platform.pk, code=code)
    return mapping.category if mapping else None


def region_for(platform: HotlinePlatform, *, area_code: str, address: str):
    """The Region for a push: the mapping of its area code, else the one whose
    address prefix is the longest prefix of ``address``; None when neither
    matches, or when the match lies outside the platform's area (its region
    changed since the mapping was made). One query."""
    if not (area_code or address):
        return None
    values = {"platform_id": platform.pk}
    if area_code:
        values["area_code"] = area_code
    if address:
        values["address"] = address
    mapping = _AREA[bool(area_code), bool(address)].first(**values)
    if mapping is None or not platform.region.contains(mapping.region):
        return None
    return mapping.region
