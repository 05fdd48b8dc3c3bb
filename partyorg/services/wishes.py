"""The micro-wish lifecycle (微心愿: 群众点单、社区派单、党员接单).

posted → claimed → fulfilled → confirmed, with releases, refusals, withdrawals
and cancellations: the steps are ``choices.WISH_TRANSITIONS`` and every step
checks ``permissions.require_wish_action`` after its lock.
Every change writes one WishEvent. Claims are a conditional UPDATE on the state,
so of two members claiming at once exactly one wins and the other gets a
Conflict.

Who acts: party members often have no account, so ``actor`` is the account that
records (a grid worker, community staff) and ``member`` the PartyMember who
claims. An account linked to a member (``PartyMember.user``) may act for itself:
``member`` then defaults to that member, and such an account without a staff
role may only touch wishes it claimed. Every actor needs the wish in scope.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import GRID_LEVELS, RegionLevel, UserRole
from grids.cleaning import validated_save
from grids.errors import DomainError, NotAllowed
from grids.models import Region, Resident
from grids.notifications import notify, notify_many
from grids.permissions import require, require_in_scope
from grids.photos import photo_from_upload

from .. import permissions
from ..choices import WISH_TRANSITIONS, WishAction, WishState
from ..models import PartyMember, Registration, Wish, WishEvent

DEFAULT_STALE_DAYS = 7


def stale_days() -> int:
    """Days after which an unclaimed wish is flagged (setting, default 7)."""
    return int(getattr(settings, "PARTYORG_WISH_STALE_DAYS", DEFAULT_STALE_DAYS))


def member_may_claim(*, member: PartyMember, community: Region) -> bool:
    """An active member of an active organisation in or above this community, or
    a member with an active registration at it (在职党员双报到)."""
    if not member.is_active:
        return False
    org = member.organisation
    if (
        org is not None
        and org.is_active
        and (community.contains(org.region) or org.region.contains(community))
    ):
        return True
    return Registration.objects.filter(
        member=member, community=community, is_active=True
    ).exists()


def _record_event(wish, *, action, from_state, actor, member=None, note=""):
    return WishEvent.objects.create(
        wish=wish,
        action=action,
        from_state=from_state,
        to_state=wish.state,
        actor=actor,
        member=member,
        note=(note or "").strip(),
    )


def _locked_wish(actor, wish_id: int, action: str) -> Wish:
    """Lock the wish, then check scope, state and the actor's right to take
    ``action`` (``permissions.require_wish_action``), in that order."""
    wish = (
        Wish.objects.select_for_update()
        .select_related("region", "community")
        .filter(pk=wish_id)
        .first()
    )
    permissions.require_wish_action(actor, wish, action)
    return wish


def _take_step(*, actor, wish_id: int, action: str, note: str = "", **changes):
    """One step of a wish, in one transaction: lock, check
    (``permissions.require_wish_action``), move to the state ``action`` leads to
    with ``changes``, save those fields, write the event (naming the member who
    held the claim). Returns the wish and its event."""
    with transaction.atomic():
        wish = _locked_wish(actor, wish_id, action)
        from_state, member = wish.state, wish.claimed_by
        wish.state = WISH_TRANSITIONS[action][1]
        for field, value in changes.items():
            setattr(wish, field, value)
        wish.save(update_fields=["state", *changes])
        event = _record_event(
            wish,
            action=action,
            from_state=from_state,
            actor=actor,
            member=member,
            note=note,
        )
    return wish, event


def wish_post(
    *,
    actor,
    region: Region,
    title: str,
    beneficiary: str,
    estimated_value=None,
    resident: Resident | None = None,
    note: str = "",
) -> Wish:
    """Post a resident's wish in a grid, building or community (社区派单)."""
    require(permissions.can_post_wish(actor))
    with transaction.atomic():
        region = Region.objects.filter(pk=region.pk).first() if region else None
        require_in_scope(actor, region)
        if region.level not in {*GRID_LEVELS, RegionLevel.COMMUNITY}:
            raise DomainError(
                _("A wish is posted in a community, grid or building."),
                code="bad_region",
            )
        community = region.ancestor_of_level(RegionLevel.COMMUNITY)
        if community is None:
            raise DomainError(
                _("This region does not lie in a community."), code="no_community"
            )
        if resident is not None and not region.contains(resident.household.region):
            raise DomainError(
                _("The resident does not live in this region."),
                code="resident_elsewhere",
            )
        wish = Wish(
            region=region,
            community=community,
            title=(title or "").strip(),
            beneficiary=(beneficiary or "").strip(),
            estimated_value=estimated_value or None,
            resident=resident,
            state=WishState.POSTED,
            posted_by=actor,
            posted_at=timezone.now(),
        )
        validated_save(wish)
        _record_event(
            wish, action=WishAction.POST, from_state="", actor=actor, note=note
        )
    return wish


def wish_claim(
    *, actor, wish_id: int, member: PartyMember | None = None, note: str = ""
) -> Wish:
    """A party member claims a posted wish (党员接单). One claim at a time: the
    state moves by a conditional UPDATE, and a lost race is a Conflict."""
    with transaction.atomic():
        wish = (
            Wish.objects.select_related("region", "community")
            .filter(pk=wish_id)
            .first()
        )
        # No row lock: the UPDATE below repeats the state condition.
        permissions.require_wish_action(actor, wish, WishAction.CLAIM)
        if member is None:
            member = permissions.linked_member(actor)
            if member is None:
                raise DomainError(
                    _("Name the party member who claims the wish."), code="no_member"
                )
        elif permissions.is_member_account(actor):
            linked = permissions.linked_member(actor)
            if linked is None or linked.pk != member.pk:
                raise NotAllowed(_("You may claim wishes only for yourself."))
        member = (
            PartyMember.objects.select_related("organisation__region")
            .filter(pk=member.pk)
            .first()
        )
        if member is None or not member_may_claim(
            member=member, community=wish.community
        ):
            raise NotAllowed(
                _(
                    "Only an active party member of this community, or an "
                    "in-service member registered here, may claim this wish."
                ),
                code="member_not_eligible",
            )
        from_states, to_state = WISH_TRANSITIONS[WishAction.CLAIM]
        claimed = Wish.objects.filter(pk=wish.pk, state__in=from_states).update(
            state=to_state, claimed_by=member, claimed_at=timezone.now()
        )
        if claimed != 1:
            wish.refresh_from_db(fields=["state"])
            raise permissions.wrong_state(wish, WishAction.CLAIM)
        from_state = wish.state
        wish.refresh_from_db()
        _record_event(
            wish,
            action=WishAction.CLAIM,
            from_state=from_state,
            actor=actor,
            member=member,
            note=note,
        )
    return wish


def wish_release(*, actor, wish_id: int, note: str = "") -> Wish:
    """Give a claim back: the wish is posted again for others to claim."""
    wish, _event = _take_step(
        actor=actor,
        wish_id=wish_id,
        action=WishAction.RELEASE,
        note=note,
        claimed_by=None,
        claimed_at=None,
    )
    return wish


def _community_staff(community: Region):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(
        role=UserRole.COMMUNITY_STAFF, is_active=True, region=community
    )


def wish_fulfil(*, actor, wish_id: int, note: str, photo) -> Wish:
    """The member reports the wish done, with a note and a photo; the community
    staff are told so they can confirm it with the resident."""
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Say how the wish was fulfilled."), code="no_note")
    if not photo:
        raise DomainError(_("Add a photo of the fulfilled wish."), code="no_photo")
    stored = photo_from_upload(photo)
    with transaction.atomic():
        wish, event = _take_step(
            actor=actor,
            wish_id=wish_id,
            action=WishAction.FULFIL,
            note=note,
            fulfilled_at=timezone.now(),
            fulfilment_note=note,
            photo=stored.content,
        )
        community_id, title = wish.community_id, wish.title
        transaction.on_commit(
            lambda: notify(
                recipients=list(
                    _community_staff(community_id).values_list("pk", flat=True)
                ),
                title=_("Micro-wish fulfilled, please confirm: %(title)s")
                % {"title": title},
                url=reverse("m:party:wish_detail", args=[wish_id]),
                dedupe_key=f"partyorg:wish:{wish_id}:fulfilled:{event.pk}",
            )
        )
    return wish


def wish_confirm(*, actor, wish_id: int, note: str = "") -> Wish:
    """Community staff confirm the fulfilment with the resident. Final."""
    now = timezone.now()
    wish, _event = _take_step(
        actor=actor,
        wish_id=wish_id,
        action=WishAction.CONFIRM,
        note=note,
        confirmed_at=now,
        closed_at=now,
    )
    return wish


def wish_reject(*, actor, wish_id: int, note: str) -> Wish:
    """Community staff refuse a fulfilment (the resident says it is not done):
    the wish goes back to the member who claimed it."""
    if not (note or "").strip():
        raise DomainError(_("Say why the fulfilment is refused."), code="no_note")
    wish, _event = _take_step(
        actor=actor,
        wish_id=wish_id,
        action=WishAction.REJECT,
        note=note,
        fulfilled_at=None,
    )
    return wish


def _close(*, actor, wish_id: int, action, note: str) -> Wish:
    wish, _event = _take_step(
        actor=actor,
        wish_id=wish_id,
        action=action,
        note=note,
        closed_at=timezone.now(),
    )
    return wish


def wish_withdraw(*, actor, wish_id: int, note: str = "") -> Wish:
    """The resident no longer needs the wish; staff or the grid worker record it."""
    return _close(actor=actor, wish_id=wish_id, action=WishAction.WITHDRAW, note=note)


def wish_cancel(*, actor, wish_id: int, note: str) -> Wish:
    """Staff cancel a wish (a duplicate, not suitable), with a reason."""
    if not (note or "").strip():
        raise DomainError(_("Say why the wish is cancelled."), code="no_note")
    return _close(actor=actor, wish_id=wish_id, action=WishAction.CANCEL, note=note)


def stale_wish_q(*, now: dt.datetime | None = None, days: int | None = None) -> Q:
    """Unclaimed wishes posted more than ``days`` (the setting) ago."""
    now = now or timezone.now()
    days = stale_days() if days is None else days
    return Q(state=WishState.POSTED, posted_at__lt=now - dt.timedelta(days=days))


def wishes_notify_stale(*, now: dt.datetime | None = None) -> int:
    """Tell each community's staff about its unclaimed wishes older than N days.

    Idempotent: one message per wish and staff account (dedupe key), however
    often the job runs. Returns the number of stale wishes seen.
    """
    stale = list(
        Wish.objects.filter(stale_wish_q(now=now))
        .values("pk", "title", "community_id")
        .order_by("pk")
    )
    if not stale:
        return 0
    from django.contrib.auth import get_user_model

    staff_by_community: dict[int, list[int]] = {}
    for user_id, region_id in (
        get_user_model()
        .objects.filter(
            role=UserRole.COMMUNITY_STAFF,
            is_active=True,
            region_id__in={w["community_id"] for w in stale},
        )
        .values_list("pk", "region_id")
    ):
        staff_by_community.setdefault(region_id, []).append(user_id)
    days = stale_days()
    notify_many(
        {
            "recipients": staff_by_community[row["community_id"]],
            "title": _("Micro-wish unclaimed for %(days)d days: %(title)s")
            % {"days": days, "title": row["title"]},
            "url": reverse("m:party:wish_detail", args=[row["pk"]]),
            "dedupe_key": f"partyorg:wish:{row['pk']}:stale",
        }
        for row in stale
        if row["community_id"] in staff_by_community
    )
    return len(stale)
