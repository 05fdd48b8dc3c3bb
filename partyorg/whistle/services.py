"""Writes of 吹哨报到: blow a whistle, record an arrival, mark the absent.

An arrival is a conditional UPDATE on ``status = pending``, so a second arrival
(or an arrival racing the absence job) changes nothing and is refused; the
absence job is one UPDATE that repeats the same condition, so it is idempotent.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import GRID_LEVELS, RegionLevel
from grids.cleaning import validated_save
from grids.errors import Conflict, DomainError
from grids.models import Region
from grids.notifications import notify
from grids.permissions import require, require_in_scope
from tickets.models import Department, Ticket

from ..deliberation.choices import TopicState
from ..models import PartyMember, Topic
from . import permissions
from .choices import ARRIVABLE, CallStatus
from .models import Whistle, WhistleCall

MIN_REPORT_MINUTES = 10
MAX_REPORT_MINUTES = 7 * 24 * 60
MAX_CALLED = 30
DEFAULT_ABSENT_GRACE_MINUTES = 60


def absent_grace() -> dt.timedelta:
    """How long after the time to report a summons still pending is marked
    absent (setting PARTYORG_WHISTLE_ABSENT_GRACE_MINUTES; until then a late
    arrival is recorded as late)."""
    minutes = getattr(
        settings, "PARTYORG_WHISTLE_ABSENT_GRACE_MINUTES", DEFAULT_ABSENT_GRACE_MINUTES
    )
    return dt.timedelta(minutes=int(minutes))


def _unique_ids(objects) -> list[int]:
    ids = []
    for obj in objects or ():
        pk = getattr(obj, "pk", obj)
        if pk is not None and pk not in ids:
            ids.append(int(pk))
    return ids


def _topic_of(actor, topic, community: Region) -> Topic:
    """The topic a whistle is blown from: in the actor's area, of the same
    community, admitted (not refused, not waiting for screening)."""
    topic = (
        Topic.objects.select_related("region")
        .filter(pk=getattr(topic, "pk", topic))
        .first()
    )
    require_in_scope(actor, topic.region if topic is not None else None)
    if topic.community_id != community.pk:
        raise DomainError(
            _("The topic does not lie in this community."), code="topic_elsewhere"
        )
    if topic.state not in (TopicState.IN_PROGRESS, TopicState.CONCLUDED):
        raise DomainError(
            _("Only an admitted topic can call a whistle."), code="topic_not_admitted"
        )
    return topic


def whistle_blow(
    *,
    actor,
    region: Region,
    title: str,
    meeting_point: str,
    report_within_minutes: int,
    departments=(),
    members=(),
    ticket: Ticket | None = None,
    topic=None,
    note: str = "",
) -> Whistle:
    """网格吹哨: summon departments and in-service party members registered at
    the community (双报到) to ``region`` within ``report_within_minutes``; from a
    ticket or an admitted deliberation topic of the same community."""
    require(permissions.can_blow_whistle(actor))
    department_ids, member_ids = _unique_ids(departments), _unique_ids(members)
    if not department_ids and not member_ids:
        raise DomainError(
            _("Summon at least one department or party member."), code="no_one_called"
        )
    if len(department_ids) + len(member_ids) > MAX_CALLED:
        raise DomainError(
            _("A whistle summons at most %(n)d departments and members.")
            % {"n": MAX_CALLED},
            code="too_many_called",
        )
    try:
        minutes = int(report_within_minutes)
    except (TypeError, ValueError):
        minutes = 0
    if not MIN_REPORT_MINUTES <= minutes <= MAX_REPORT_MINUTES:
        raise DomainError(
            _("The time to report must be between %(low)d minutes and 7 days.")
            % {"low": MIN_REPORT_MINUTES},
            code="bad_report_time",
        )
    with transaction.atomic():
        region = Region.objects.filter(pk=getattr(region, "pk", None)).first()
        require_in_scope(actor, region)
        if region.level not in {*GRID_LEVELS, RegionLevel.COMMUNITY}:
            raise DomainError(
                _("A whistle is blown in a community, grid or building."),
                code="bad_region",
            )
        community = region.ancestor_of_level(RegionLevel.COMMUNITY)
        if community is None:
            raise DomainError(
                _("This region does not lie in a community."), code="no_community"
            )
        if ticket is not None:
            ticket = (
                Ticket.objects.select_related("region").filter(pk=ticket.pk).first()
            )
            if ticket is None or not community.contains(ticket.region):
                raise DomainError(
                    _("The ticket does not lie in this community."),
                    code="ticket_elsewhere",
                )
        if topic is not None:
            topic = _topic_of(actor, topic, community)
        found_departments = list(
            Department.objects.active().serving(region).filter(pk__in=department_ids)
        )
        if len(found_departments) != len(department_ids):
            raise DomainError(
                _("A department summoned does not serve this place."),
                code="department_not_serving",
            )
        found_members = list(
            PartyMember.objects.filter(
                pk__in=member_ids,
                is_active=True,
                is_in_service=True,
                registrations__community=community,
                registrations__is_active=True,
            ).distinct()
        )
        if len(found_members) != len(member_ids):
            raise DomainError(
                _(
                    "Only in-service party members registered at this community "
                    "(双报到) may be summoned."
                ),
                code="member_not_registered",
            )
        now = timezone.now()
        whistle = Whistle(
            region=region,
            community=community,
            ticket=ticket,
            topic=topic,
            title=(title or "").strip(),
            meeting_point=(meeting_point or "").strip(),
            note=(note or "").strip(),
            blown_by=actor,
            blown_at=now,
            report_by=now + dt.timedelta(minutes=minutes),
        )
        validated_save(whistle)
        WhistleCall.objects.bulk_create(
            [WhistleCall(whistle=whistle, department=d) for d in found_departments]
            + [WhistleCall(whistle=whistle, member=m) for m in found_members]
        )
        recipients = [
            user_id
            for d in found_departments
            for user_id in d.members.filter(is_active=True).values_list("pk", flat=True)
        ] + [m.user_id for m in found_members if m.user_id]
        if recipients:
            transaction.on_commit(
                lambda: notify(
                    recipients=sorted(set(recipients)),
                    title=_("Whistle: %(title)s") % {"title": whistle.title},
                    body=_("Report at %(place)s by %(time)s.")
                    % {
                        "place": whistle.meeting_point,
                        "time": timezone.localtime(whistle.report_by).strftime(
                            "%Y-%m-%d %H:%M"
                        ),
                    },
                    dedupe_key=f"whistle:{whistle.pk}",
                )
            )
    return whistle


def whistle_call_arrive(*, actor, call_id: int) -> WhistleCall:
    """报到: record that the summoned department or member is on site now: on
    time up to the whistle's ``report_by``, late after it. Once only."""
    with transaction.atomic():
        call = (
            WhistleCall.objects.select_related("whistle__region")
            .filter(pk=call_id)
            .first()
        )
        require_in_scope(actor, call.whistle.region if call is not None else None)
        require(permissions.may_record_arrival(actor, call))
        now = timezone.now()
        status = (
            CallStatus.ON_TIME if now <= call.whistle.report_by else CallStatus.LATE
        )
        updated = WhistleCall.objects.filter(pk=call.pk, status__in=ARRIVABLE).update(
            status=status, arrived_at=now, arrival_recorded_by=actor
        )
        if not updated:
            current = WhistleCall.objects.get(pk=call.pk).status
            if current == CallStatus.ABSENT:
                raise Conflict(
                    _("This summons was already marked absent."), code="marked_absent"
                )
            raise Conflict(
                _("This arrival is already recorded."), code="already_arrived"
            )
        call.refresh_from_db()
    return call


def whistle_calls_mark_absent(*, now: dt.datetime | None = None) -> int:
    """缺席: every summons still pending when the grace period after its
    whistle's time to report has run out. One UPDATE; running it twice marks
    nothing the second time. Returns the number marked."""
    now = now or timezone.now()
    return WhistleCall.objects.filter(
        status=CallStatus.PENDING, whistle__report_by__lt=now - absent_grace()
    ).update(status=CallStatus.ABSENT, absent_marked_at=now)
