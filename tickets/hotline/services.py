"""Writes of the hotline integration: the platforms and their mapping tables
(kept by staff), and receiving a push (``hotline_ticket_receive``).

A push becomes a ticket through ``tickets.services.ticket_create`` (source
12345), acting as the platform's own account, whose scope is the platform's
region: a platform cannot create or reach a ticket outside it.
"""

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from grids.audit import audit_record, diff, field_values
from grids.choices import AuditAction, UserRole
from grids.cleaning import validated_save
from grids.errors import Conflict, DomainError, OutOfScope
from grids.permissions import is_active_user, require, require_in_scope
from grids.prepared import PreparedQuery, insert_row, update_fields
from grids.validators import normalize_phone

from .. import permissions
from ..choices import Source
from ..services.intake import ticket_create
from . import mapping, signing
from .choices import TriageFlag
from .models import (
    HotlineAreaMapping,
    HotlineCategoryMapping,
    HotlineInbound,
    HotlinePlatform,
)

PLATFORM_FIELDS = (
    "name",
    "code",
    "callback_url",
    "region",
    "fallback_region",
    "enabled",
)


# --- platforms and mappings ------------------------------------------------------


def can_keep_platforms(user) -> bool:
    """A platform (its secret, its callback URL) is an integration setting: an
    administrator's."""
    return is_active_user(user) and user.is_superuser


def can_keep_mappings(user, platform: HotlinePlatform | None = None) -> bool:
    """The mapping tables are the street centre's (制单 is theirs)."""
    return permissions.can_manage_departments(user) or (
        is_active_user(user) and user.is_superuser
    )


def _check_regions(platform: HotlinePlatform) -> None:
    if platform.fallback_region_id and not platform.region.contains(
        platform.fallback_region
    ):
        raise DomainError(
            _("Unmapped tickets must go to a place inside the platform's area."),
            code="invalid",
            extra={"fields": ["fallback_region"]},
        )


def _sync_account(platform: HotlinePlatform) -> None:
    """The platform's account: scope = the platform's region, active only while
    the platform is enabled; no password (it signs, it never logs in)."""
    account = platform.account
    account.region = platform.region
    account.is_active = platform.enabled
    account.save(update_fields=["region", "is_active"])


def hotline_platform_create(
    *,
    actor,
    name: str,
    code: str,
    region,
    callback_url: str = "",
    fallback_region=None,
    enabled: bool = True,
) -> tuple[HotlinePlatform, str]:
    """A platform with a new secret and its own account; returns the platform
    and the secret, which is shown once (stored encrypted, never shown again)."""
    require(can_keep_platforms(actor))
    secret = signing.new_secret()
    code = (code or "").strip()
    with transaction.atomic():
        account = get_user_model()(
            username=f"hotline-{code}"[:150],
            role=UserRole.STREET_STAFF,
            region=region,
            is_staff=False,
            is_active=enabled,
            last_name=(name or "")[:150],
        )
        account.set_unusable_password()
        platform = HotlinePlatform(
            name=(name or "").strip(),
            code=code,
            secret=secret,
            region=region,
            fallback_region=fallback_region,
            callback_url=(callback_url or "").strip(),
            enabled=enabled,
        )
        platform.account = account
        _check_regions(platform)
        # Validated before the account is written (the account is excluded).
        platform.full_clean(exclude=["account", "secret"])
        validated_save(
            account,
            conflict_message=_("A platform with this code exists."),
            conflict_code="duplicate_code",
        )
        platform.account = account
        validated_save(
            platform,
            exclude=["account", "secret"],
            conflict_messages={"code": _("A platform with this code exists.")},
            conflict_code="duplicate_code",
        )
        audit_record(
            actor=actor,
            instance=platform,
            action=AuditAction.CREATE,
            changes=diff({}, field_values(platform, PLATFORM_FIELDS)),
        )
    return platform, secret


def hotline_platform_update(*, actor, platform_id: int, **changes) -> HotlinePlatform:
    """Change a platform's name, URL, area, fallback or switch (not its secret:
    see ``hotline_platform_rotate_secret``)."""
    require(can_keep_platforms(actor))
    unknown = set(changes) - set(PLATFORM_FIELDS)
    if unknown:
        raise DomainError(
            _("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))},
            code="invalid",
        )
    with transaction.atomic():
        platform = (
            HotlinePlatform.objects.select_for_update().filter(pk=platform_id).first()
        )
        if platform is None:
            require_in_scope(actor, None)
        before = field_values(platform, PLATFORM_FIELDS)
        for name, value in changes.items():
            setattr(platform, name, value)
        _check_regions(platform)
        validated_save(
            platform,
            exclude=["account", "secret"],
            conflict_messages={"code": _("A platform with this code exists.")},
            conflict_code="duplicate_code",
        )
        _sync_account(platform)
        audit_record(
            actor=actor,
            instance=platform,
            action=AuditAction.UPDATE,
            changes=diff(before, field_values(platform, PLATFORM_FIELDS)),
        )
    return platform


def hotline_platform_rotate_secret(*, actor, platform_id: int) -> str:
    """A new secret (the old one stops working at once); returned to be shown
    once."""
    require(can_keep_platforms(actor))
    secret = signing.new_secret()
    with transaction.atomic():
        platform = (
            HotlinePlatform.objects.select_for_update().filter(pk=platform_id).first()
        )
        if platform is None:
            require_in_scope(actor, None)
        platform.secret = secret
        platform.save(update_fields=["secret"])
        audit_record(
            actor=actor,
            instance=platform,
            action=AuditAction.UPDATE,
            changes={"secret": ["***", "***"]},
        )
    return secret


def _check_mapping(actor, platform: HotlinePlatform, region=None) -> None:
    require(can_keep_mappings(actor))
    if not actor.is_superuser and not (
        actor.can_see_region(platform.region) or platform.region.contains(actor.region)
    ):
        require_in_scope(actor, None)
    if region is not None:
        require_in_scope(actor, region)
        if not platform.region.contains(region):
            raise OutOfScope(
                _("This place lies outside the platform's area."),
                extra={"fields": ["region"]},
            )


def hotline_category_mapping_save(
    *, actor, platform: HotlinePlatform, code: str, category, mapping_id=None
) -> HotlineCategoryMapping:
    """Create (or, with ``mapping_id``, change) a category mapping."""
    _check_mapping(actor, platform)
    with transaction.atomic():
        row = (
            HotlineCategoryMapping.objects.select_for_update()
            .filter(pk=mapping_id, platform=platform)
            .first()
            if mapping_id
            else HotlineCategoryMapping(platform=platform)
        )
        if row is None:
            require_in_scope(actor, None)
        before = field_values(row, ("code", "category")) if mapping_id else {}
        row.code, row.category = (code or "").strip(), category
        validated_save(
            row,
            conflict_message=_("This platform code is mapped already."),
            conflict_code="duplicate_code",
        )
        # Entered in the platform's log: a category mapping has no place of its
        # own, and the log is scoped by place.
        audit_record(
            actor=actor,
            instance=platform,
            action=AuditAction.UPDATE,
            changes={
                f"category_mapping.{key}": value
                for key, value in diff(
                    before, field_values(row, ("code", "category"))
                ).items()
            },
        )
    return row


def hotline_area_mapping_save(
    *,
    actor,
    platform: HotlinePlatform,
    region,
    area_code: str = "",
    address_prefix: str = "",
    mapping_id=None,
) -> HotlineAreaMapping:
    """Create (or change) an area mapping: the region must lie in the platform's
    area and in the actor's."""
    _check_mapping(actor, platform, region)
    fields = ("area_code", "address_prefix", "region")
    with transaction.atomic():
        row = (
            HotlineAreaMapping.objects.select_for_update()
            .filter(pk=mapping_id, platform=platform)
            .first()
            if mapping_id
            else HotlineAreaMapping(platform=platform)
        )
        if row is None:
            require_in_scope(actor, None)
        if mapping_id and not actor.is_superuser:
            require_in_scope(actor, row.region)
        before = field_values(row, fields) if mapping_id else {}
        row.area_code = (area_code or "").strip()
        row.address_prefix = (address_prefix or "").strip()
        row.region = region
        if not (row.area_code or row.address_prefix):
            raise DomainError(
                _("Give an area code or an address prefix."), code="required"
            )
        validated_save(
            row,
            conflict_message=_("This area code or address prefix is mapped already."),
            conflict_code="duplicate_code",
        )
        audit_record(
            actor=actor,
            instance=row,
            action=AuditAction.UPDATE if mapping_id else AuditAction.CREATE,
            changes=diff(before, field_values(row, fields)),
        )
    return row


# --- receiving a push ------------------------------------------------------------


@dataclass(frozen=True)
class HotlinePush:
    """A ticket as the platform pushes it (docs/hotline.md, "Payload")."""

    number: str
    received_at: dt.datetime
    content: str
    caller_name: str = ""
    caller_phone: str = ""
    address: str = ""
    area_code: str = ""
    category_code: str = ""
    deadline: dt.datetime | None = None

    def normalised(self) -> "HotlinePush":
        """Spacing trimmed and the phone normalised: what is compared."""
        return HotlinePush(
            number=self.number.strip(),
            received_at=self.received_at,
            content=self.content.strip(),
            caller_name=self.caller_name.strip(),
            caller_phone=normalize_phone(self.caller_phone),
            address=self.address.strip(),
            area_code=self.area_code.strip(),
            category_code=self.category_code.strip(),
            deadline=self.deadline,
        )

    def digest(self) -> str:
        """What tells a replay (same digest) from a clash: every field, with the
        times as UTC instants."""
        data = asdict(self)
        for key in ("received_at", "deadline"):
            if data[key] is not None:
                data[key] = data[key].astimezone(dt.UTC).isoformat()
        text = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def _replay(inbound: HotlineInbound, digest: str) -> HotlineInbound:
    if inbound.content_digest != digest:
        raise Conflict(
            _(
                "12345 ticket %(number)s was already received with other "
                "content; it is not overwritten."
            )
            % {"number": inbound.number},
            code="hotline_number_conflict",
            extra={"ticket": inbound.response.get("ticket_id")},
        )
    return inbound


def _other_platforms_number() -> OutOfScope:
    return OutOfScope(
        _("This 12345 ticket number belongs to another platform's area."),
        code="hotline_number_elsewhere",
    )


def _response(inbound: HotlineInbound) -> dict:
    ticket = inbound.ticket
    return {
        "hotline_number": inbound.number,
        "ticket_id": ticket.pk,
        "ticket_number": ticket.number,
        "stage": ticket.stage,
        "received_at": ticket.received_at.astimezone(dt.UTC).isoformat(),
        "flags": list(inbound.flags),
    }


def hotline_ticket_receive(
    *, platform: HotlinePlatform, push: HotlinePush
) -> tuple[HotlineInbound, bool]:
    """Receive a push; (the push's record with its ``response``, whether it was
    new). The same number again with the same content answers as the first
    time, with nothing written; with other content it is a ``Conflict``
    (``hotline_number_conflict``) and nothing changes; a number another
    platform pushed, or a ticket outside the platform's area, is ``OutOfScope``.
    Two pushes at once: the unique (platform, number) lets one in, the other
    waits for it and answers as a replay."""
    if not platform.enabled:
        raise OutOfScope(_("This platform is switched off."), code="platform_disabled")
    push = push.normalised()
    if not push.number:
        raise DomainError(
            _("A 12345 ticket needs the hotline's ticket number."), code="required"
        )
    digest = push.digest()
    answer = _received_before(platform, push.number, digest)
    if answer is not None:
        return answer, False
    # Claim the number (the unique (platform, number)): a concurrent push of it
    # waits on the insert, then fails as a whole and answers as a replay. No
    # savepoints: the claim is the transaction's first write.
    claimed = False
    try:
        with transaction.atomic():
            inbound = HotlineInbound(
                platform=platform,
                number=push.number,
                content_digest=digest,
                category_code=push.category_code[:40],
                area_code=push.area_code[:40],
                platform_deadline=push.deadline,
            )
            # save() and save(update_fields=…) without compiling each time
            # (grids.prepared; nothing listens to this model's saves).
            insert_row(inbound)
            claimed = True
            inbound.ticket, inbound.flags = _create_ticket(platform, push)
            inbound.response = _response(inbound)
            update_fields(inbound, ["ticket", "flags", "response"])
    except IntegrityError:
        if claimed:
            # ``ticket_create`` answered with a ticket another platform's push
            # made (a race on the same number): not this platform's.
            raise _other_platforms_number() from None
        answer = _received_before(platform, push.number, digest)
        if answer is None:
            raise
        return answer, False
    return inbound, True


# Every push looks its number up first (grids.prepared: compiled once).
_INBOUND_BY_NUMBER = PreparedQuery(
    lambda number: HotlineInbound.objects.filter(number=number).order_by("pk")[:2],
    number=str,
)


def _received_before(
    platform: HotlinePlatform, number: str, digest: str
) -> HotlineInbound | None:
    """The answer to a number already received (one query): this platform's
    push again (the same, or a ``Conflict``), or another platform's
    (``OutOfScope``); None for a new number."""
    seen = _INBOUND_BY_NUMBER.all(number=number)
    mine = next((row for row in seen if row.platform_id == platform.pk), None)
    if mine is not None:
        return _replay(mine, digest)
    if seen:
        raise _other_platforms_number()
    return None


def _create_ticket(platform: HotlinePlatform, push: HotlinePush):
    """The ticket of a new push, placed by the mappings; (ticket, flags)."""
    category = mapping.category_for(platform, push.category_code)
    region = mapping.region_for(
        platform, area_code=push.area_code, address=push.address
    )
    flags = []
    if category is None:
        flags.append(TriageFlag.CATEGORY_UNMAPPED.value)
    if region is None:
        flags.append(TriageFlag.AREA_UNMAPPED.value)
        region = platform.triage_region
    event_data = {"hotline_platform": platform.code}
    if flags:
        event_data["hotline_flags"] = flags
    if push.deadline is not None:
        event_data["hotline_deadline"] = push.deadline.isoformat()
    ticket = ticket_create(
        actor=platform.account,
        source=Source.HOTLINE,
        hotline_number=push.number,
        region=region,
        category=category,
        description=push.content,
        address=push.address,
        reporter_name=push.caller_name,
        reporter_phone=push.caller_phone,
        received_at=push.received_at,
        event_data=event_data,
    )
    return ticket, flags
