"""Party members, in-service members' registration at their residence community
(在职党员双报到) and the log of the services they give there."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import RegionLevel
from grids.cleaning import validated_save
from grids.errors import Conflict, DomainError
from grids.history import records_actor
from grids.models import GridWorker, Region
from grids.permissions import require, require_in_scope
from grids.selectors import worker_serves_in_scope
from grids.validators import normalize_phone

from .. import permissions
from ..models import PartyMember, PartyOrg, Registration, ServiceRecord

MEMBER_EDITABLE_FIELDS = (
    "name",
    "phone",
    "organisation",
    "is_active",
    "is_in_service",
    "employer",
    "is_grid_head",
    "is_building_head",
    "is_unit_head",
    "grid_worker",
    "user",
)


def _member_clash_messages() -> dict:
    """How a uniqueness clash on a member is refused (a Conflict): a message per
    field found by validation, one message for a clash the database finds."""
    return {
        "conflict_messages": {
            "phone": _("Another party member already has this phone number."),
            "grid_worker": _(
                "This grid worker is already linked to another party member."
            ),
            "user": _("This login account is already linked to another party member."),
        },
        "conflict_message": _("A party member with this phone or link already exists."),
        "conflict_code": "duplicate_member",
    }


def _check_links(actor, *, organisation, grid_worker) -> None:
    if organisation is not None:
        require_in_scope(actor, organisation.region)
    # The roster person must serve (or have served) a grid in the actor's area.
    if (
        grid_worker is not None
        and not actor.is_superuser
        and not worker_serves_in_scope(actor=actor, worker=grid_worker)
    ):
        require_in_scope(actor, None)


@records_actor
def party_member_create(
    *,
    actor,
    name: str,
    phone: str,
    organisation: PartyOrg | None = None,
    community: Region | None = None,
    registered_on: dt.date | None = None,
    is_in_service: bool = False,
    employer: str = "",
    is_grid_head: bool = False,
    is_building_head: bool = False,
    is_unit_head: bool = False,
    grid_worker: GridWorker | None = None,
    user=None,
) -> PartyMember:
    """Add a member. An in-service member whose branch sits at their employer has
    no ``organisation`` here and must be registered at a ``community`` at once, so
    no member is ever invisible to every staff account."""
    require(permissions.can_manage_members(actor))
    if organisation is None and community is None:
        raise DomainError(
            _(
                "Give the member's organisation, or the community an in-service "
                "member registers at."
            ),
            code="no_home",
        )
    _check_links(actor, organisation=organisation, grid_worker=grid_worker)
    member = PartyMember(
        name=(name or "").strip(),
        phone=normalize_phone(phone or ""),
        organisation=organisation,
        is_in_service=is_in_service,
        employer=(employer or "").strip(),
        is_grid_head=is_grid_head,
        is_building_head=is_building_head,
        is_unit_head=is_unit_head,
        grid_worker=grid_worker,
        user=user,
    )
    with transaction.atomic():
        validated_save(member, **_member_clash_messages())
        if community is not None:
            registration_create(
                actor=actor,
                member_id=member.pk,
                community=community,
                registered_on=registered_on,
            )
    return member


@records_actor
def party_member_update(*, actor, member_id: int, **changes) -> PartyMember:
    unknown = set(changes) - set(MEMBER_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            _("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    require(permissions.can_manage_members(actor))
    with transaction.atomic():
        member = PartyMember.objects.select_for_update().filter(pk=member_id).first()
        if (
            member is None
            or not PartyMember.objects.visible_to(actor).filter(pk=member_id).exists()
        ):
            require_in_scope(actor, None)
        _check_links(
            actor,
            organisation=changes.get("organisation"),
            grid_worker=changes.get("grid_worker"),
        )
        if "phone" in changes:
            changes["phone"] = normalize_phone(changes["phone"] or "")
        for field, value in changes.items():
            if isinstance(value, str):
                value = value.strip()
            setattr(member, field, value)
        validated_save(member, update_fields=list(changes), **_member_clash_messages())
    return member


def _member_is_actors(actor, member: PartyMember) -> bool:
    """Visible to the actor, or an in-service member nobody looks after yet."""
    if PartyMember.objects.visible_to(actor).filter(pk=member.pk).exists():
        return True
    return (
        member.organisation_id is None
        and member.is_in_service
        and not Registration.objects.filter(member=member, is_active=True).exists()
    )


def registration_create(
    *,
    actor,
    member_id: int,
    community: Region,
    registered_on: dt.date | None = None,
) -> Registration:
    """An in-service member registers at their residence community (双报到).

    Both the community and the member must be the actor's: the member visible to
    the actor (through their organisation or an active registration in the
    actor's area), or an *unattached* in-service member — no organisation in this
    tree and no active registration anywhere (just added, or whose last
    registration ended). Otherwise registering would pull another area's member
    into this one and make them editable here: a member who moves is first
    signed off by the old community (``registration_end``). Refused as
    OutOfScope, like a member that does not exist.
    """
    require(permissions.can_manage_members(actor))
    registered_on = registered_on or timezone.localdate()
    with transaction.atomic():
        member = PartyMember.objects.select_for_update().filter(pk=member_id).first()
        community = (
            Region.objects.filter(pk=community.pk).first() if community else None
        )
        require_in_scope(actor, community)
        if member is None or not _member_is_actors(actor, member):
            require_in_scope(actor, None)
        if community.level != RegionLevel.COMMUNITY:
            raise DomainError(
                _("Members register at a community."), code="not_a_community"
            )
        if not member.is_in_service:
            raise DomainError(
                _("Only in-service members register at their residence community."),
                code="not_in_service",
            )
        if not member.is_active:
            raise DomainError(_("This member is no longer active."), code="inactive")
        if registered_on > timezone.localdate():
            raise DomainError(_("A date cannot lie in the future."), code="future")
        if Registration.objects.filter(
            member=member, community=community, is_active=True
        ).exists():
            raise Conflict(
                _("This member is already registered at this community."),
                code="already_registered",
            )
        registration = Registration(
            member=member,
            community=community,
            registered_on=registered_on,
            recorded_by=actor,
        )
        validated_save(
            registration,
            conflict_message=_("This member is already registered at this community."),
            conflict_code="already_registered",
        )
    return registration


def _locked_registration(actor, registration_id: int) -> Registration:
    """Lock a registration, then check it lies in the actor's area."""
    registration = (
        Registration.objects.select_for_update()
        .select_related("community")
        .filter(pk=registration_id)
        .first()
    )
    require_in_scope(actor, registration.community if registration else None)
    return registration


def registration_end(
    *, actor, registration_id: int, ended_on: dt.date | None = None
) -> Registration:
    """End a registration (the member moved); its service log stays."""
    require(permissions.can_manage_members(actor))
    ended_on = ended_on or timezone.localdate()
    with transaction.atomic():
        registration = _locked_registration(actor, registration_id)
        if not registration.is_active:
            raise Conflict(_("This registration has already ended."))
        if ended_on < registration.registered_on:
            raise DomainError(_("A registration cannot end before it starts."))
        registration.is_active = False
        registration.ended_on = ended_on
        registration.save(update_fields=["is_active", "ended_on"])
    return registration


def _positive_hours(hours) -> Decimal:
    try:
        value = Decimal(str(hours)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError, TypeError):
        value = Decimal(0)
    if value <= 0 or value > Decimal("24"):
        raise DomainError(
            _("Hours must be more than 0 and at most 24."), code="bad_hours"
        )
    return value


def service_record_log(
    *,
    actor,
    registration_id: int,
    task: str,
    hours,
    served_on: dt.date,
    note: str = "",
) -> ServiceRecord:
    """Log one service a registered member gave at the community."""
    require(permissions.can_record_service(actor))
    hours = _positive_hours(hours)
    task = (task or "").strip()
    if not task:
        raise DomainError(_("Say what the service was."), code="no_task")
    with transaction.atomic():
        registration = _locked_registration(actor, registration_id)
        if not registration.is_active:
            raise Conflict(
                _("This registration has ended; no more services can be logged."),
                code="registration_ended",
            )
        if served_on > timezone.localdate():
            raise DomainError(_("A date cannot lie in the future."), code="future")
        if served_on < registration.registered_on:
            raise DomainError(
                _("The service date lies before the registration."), code="too_early"
            )
        record = ServiceRecord(
            registration=registration,
            task=task,
            hours=hours,
            served_on=served_on,
            note=(note or "").strip(),
            recorded_by=actor,
        )
        validated_save(record)
    return record
