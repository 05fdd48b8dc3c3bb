"""Each community's kind (which chooses its path), councils and their seats."""

from django.db import transaction
from django.utils.translation import gettext as _

from grids.choices import RegionLevel
from grids.cleaning import validated_save
from grids.errors import Conflict, DomainError
from grids.models import GridAssignment, GridWorker, Region, Resident
from grids.permissions import require, require_in_scope
from grids.services import lock_in_scope

from ...models import PartyMember
from ...services.wishes import member_may_claim
from .. import permissions
from ..choices import (
    DEFAULT_PATH,
    PATH_FOR_KIND,
    CommunityKind,
    CouncilKind,
    MemberSide,
)
from ..models import (
    CommunityProfile,
    Council,
    CouncilMember,
)
from .common import _community_of, _fresh_region, _text

# --- Community kind and councils ---------------------------------------------------


def community_kind_set(*, actor, community, kind: str) -> CommunityProfile:
    """Say what kind of place a community is; its new topics follow that path."""
    require(permissions.can_keep_councils(actor))
    if kind not in CommunityKind.values:
        raise DomainError(_("Choose the kind of community."), code="bad_kind")
    with transaction.atomic():
        community = _fresh_region(community)
        require_in_scope(actor, community)
        if community.level != RegionLevel.COMMUNITY:
            raise DomainError(_("Choose a community or village."), code="bad_region")
        profile, _created = CommunityProfile.objects.select_for_update().get_or_create(
            community=community, defaults={"kind": kind}
        )
        if profile.kind != kind:
            profile.kind = kind
            profile.save(update_fields=["kind"])
    return profile


def path_for(community: Region) -> str:
    """The path a new topic of ``community`` follows (by the community's kind)."""
    kind = (
        CommunityProfile.objects.filter(community=community)
        .values_list("kind", flat=True)
        .first()
    )
    return PATH_FOR_KIND[CommunityKind(kind)] if kind else DEFAULT_PATH


def council_create(
    *,
    actor,
    region,
    name: str,
    kind: str,
    secret_ballot: bool = False,
    quorum_percent: int = 66,
    majority_percent: int = 50,
) -> Council:
    """A council of a community (议事会, 五位一体, 四会) or of a grid (网格议事会)."""
    require(permissions.can_keep_councils(actor))
    with transaction.atomic():
        region = _fresh_region(region)
        require_in_scope(actor, region)
        wanted = RegionLevel.GRID if kind == CouncilKind.GRID else RegionLevel.COMMUNITY
        if region.level != wanted:
            raise DomainError(
                _("A grid council sits in a grid; the other councils in a community."),
                code="bad_region",
            )
        council = Council(
            region=region,
            name=_text(name, what=_("the name"), limit=100),
            kind=kind,
            secret_ballot=bool(secret_ballot),
            quorum_percent=quorum_percent,
            majority_percent=majority_percent,
        )
        validated_save(
            council,
            conflict_message=_("There is already a council of this name here."),
        )
    return council


COUNCIL_EDITABLE_FIELDS = (
    "name",
    "secret_ballot",
    "quorum_percent",
    "majority_percent",
    "is_active",
)


def council_update(*, actor, council_id: int, **changes) -> Council:
    """Rename a council, change its ballot rules or switch it off. A vote already
    open keeps the rules it opened with."""
    require(permissions.can_keep_councils(actor))
    unknown = set(changes) - set(COUNCIL_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(_("These fields cannot be changed here."), code="bad_field")
    with transaction.atomic():
        council = lock_in_scope(
            Council.objects.select_related("region"),
            council_id,
            actor=actor,
            region_of=lambda council: council.region,
        )
        for field, value in changes.items():
            setattr(council, field, value)
        validated_save(
            council,
            update_fields=list(changes),
            conflict_message=_("There is already a council of this name here."),
        )
    return council


def _person_in_community(*, community, grid_worker, party_member, resident) -> bool:
    if resident is not None:
        return community.contains(resident.household.region)
    if party_member is not None:
        return member_may_claim(member=party_member, community=community)
    if grid_worker is not None:
        return GridAssignment.objects.filter(
            worker=grid_worker,
            ended_on__isnull=True,
            grid__tree_id=community.tree_id,
            grid__lft__gte=community.lft,
            grid__rght__lte=community.rght,
        ).exists()
    return True


def council_member_add(
    *,
    actor,
    council_id: int,
    side: str,
    name: str = "",
    grid_worker: GridWorker | None = None,
    party_member: PartyMember | None = None,
    resident: Resident | None = None,
) -> CouncilMember:
    """Seat a person on a council: from the roster, the party members or the
    households (one of them, living or serving in the council's community), or
    a unit's delegate by name. The account that casts ballots on the phone is
    the grid worker's or party member's own."""
    require(permissions.can_keep_councils(actor))
    if side not in MemberSide.values:
        raise DomainError(_("Say whom the member speaks for."), code="bad_side")
    linked = [p for p in (grid_worker, party_member, resident) if p is not None]
    if len(linked) > 1:
        raise DomainError(
            _("Choose one person: a grid worker, a party member or a resident."),
            code="two_people",
        )
    with transaction.atomic():
        council = lock_in_scope(
            Council.objects.select_related("region"),
            council_id,
            actor=actor,
            region_of=lambda council: council.region,
        )
        if not council.is_active:
            raise Conflict(_("This council is switched off."), code="council_inactive")
        community = _community_of(council.region)
        given = bool(linked)
        if resident is not None:
            resident = (
                Resident.objects.select_related("household__region")
                .filter(pk=resident.pk, is_active=True)
                .first()
            )
        if party_member is not None:
            party_member = (
                PartyMember.objects.select_related("organisation__region")
                .filter(pk=party_member.pk, is_active=True)
                .first()
            )
        if given and not (grid_worker or party_member or resident):
            raise DomainError(_("This person is no longer on the lists."), code="gone")
        if not _person_in_community(
            community=community,
            grid_worker=grid_worker,
            party_member=party_member,
            resident=resident,
        ):
            raise DomainError(
                _("This person neither lives nor serves in the council's community."),
                code="not_in_community",
            )
        person = grid_worker or party_member or resident
        user_id = getattr(grid_worker or party_member, "user_id", None)
        member = CouncilMember(
            council=council,
            side=side,
            name=_text(
                name or getattr(person, "name", ""), what=_("the name"), limit=50
            ),
            grid_worker=grid_worker,
            party_member=party_member,
            resident=resident,
            user_id=user_id,
        )
        validated_save(
            member, conflict_message=_("This person already has a seat on the council.")
        )
    return member


def council_member_remove(*, actor, member_id: int) -> CouncilMember:
    """Take a seat away (kept, inactive): ballots already issued stay valid."""
    require(permissions.can_keep_councils(actor))
    with transaction.atomic():
        member = lock_in_scope(
            CouncilMember.objects.select_related("council__region"),
            member_id,
            actor=actor,
            region_of=lambda member: member.council.region,
        )
        if member.is_active:
            member.is_active = False
            member.save(update_fields=["is_active"])
    return member
