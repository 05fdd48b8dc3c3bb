"""码上办 (seed 000: "群众只需点一下手机，就可以反映诉求"): a resident reports a
matter from the grid's QR poster without an account, and follows it through a
signed tracking link.

The report is a ticket of source 群众自报 received into the street's triage
queue like any other (制单 within one working day). What keeps the open form
usable: a rate limit per client address and per phone number (Django's cache),
refusing the same content twice in the same grid, and, in the page, a honeypot
field and a minimum fill time (``tickets.phone_forms``). The tracking link is
signed like the evaluation link and bound to the reporter's phone; the page it
opens shows the stages and the public result, never a staff member's name or
the reporter's data.
"""

import datetime as dt
import hashlib
import re

from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from grids.choices import RegionLevel
from grids.errors import Conflict, DomainError, OutOfScope
from grids.models import Region
from grids.validators import normalize_phone, validate_mainland_phone

from ..choices import TRIAGE_WORKING_DAYS, Action, DeadlineClass, Source, Stage
from ..models import Category, Ticket
from . import numbers
from .common import (
    check_photos,
    record_event,
    require_text,
    save_photos,
    set_deadline,
    setting,
    street_of,
)
from .evaluation import (
    REPORTER_LABEL,
    _phone_digest,
    after_verdict_link,
    evaluation_url,
    reporter_phones,
)

TRACKING_SALT = "tickets.tracking-link"
DESCRIPTION_MAX_LENGTH = 1000
ADDRESS_MAX_LENGTH = Ticket._meta.get_field("address").max_length
# Mainland China, islands included (a generous box: the check is against a
# phone's wrong fix or a made-up value, not a border).
CHINA_LATITUDE = (3.8, 53.6)
CHINA_LONGITUDE = (73.4, 135.1)


# --- Rate limits ---------------------------------------------------------------


def _limits() -> dict:
    """(count, seconds) per key kind; settings override."""
    return {
        "ip": (
            setting("TICKETS_SELF_REPORT_PER_IP", 5),
            setting("TICKETS_SELF_REPORT_IP_WINDOW_MINUTES", 60) * 60,
        ),
        "phone": (
            setting("TICKETS_SELF_REPORT_PER_PHONE", 3),
            setting("TICKETS_SELF_REPORT_PHONE_WINDOW_HOURS", 24) * 3600,
        ),
    }


def _cache_key(kind: str, value: str) -> str:
    digest = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]
    return f"tickets:self-report:{kind}:{digest}"


def _take(kind: str, value: str) -> bool:
    """Count one report against ``value``'s allowance; False when it is spent.
    ``add`` then ``incr`` is atomic on the cache backends we use (Redis, and the
    local-memory cache within one process)."""
    limit, seconds = _limits()[kind]
    key = _cache_key(kind, value)
    cache.add(key, 0, timeout=seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=seconds)
        count = 1
    return count <= limit


def self_report_rate_check(*, client_ip: str, phone: str) -> None:
    """Refuse (``Conflict``, ``rate_limited``) when this address or this phone
    has sent more reports than allowed in its window; each call counts."""
    ip_ok = _take("ip", client_ip or "unknown")
    phone_ok = _take("phone", normalize_phone(phone)) if phone else True
    if not (ip_ok and phone_ok):
        raise Conflict(
            _(
                "Too many reports were sent from this phone or number. "
                "Please try again later, or call 12345."
            ),
            code="rate_limited",
        )


# --- Intake --------------------------------------------------------------------


def _normal_text(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _check_location(latitude, longitude) -> tuple:
    if latitude in (None, "") and longitude in (None, ""):
        return None, None
    try:
        lat, lng = round(float(latitude), 6), round(float(longitude), 6)
    except (TypeError, ValueError):
        raise DomainError(
            _("The location could not be read."), code="invalid"
        ) from None
    if not (
        CHINA_LATITUDE[0] <= lat <= CHINA_LATITUDE[1]
        and CHINA_LONGITUDE[0] <= lng <= CHINA_LONGITUDE[1]
    ):
        raise DomainError(
            _("The location is outside China. Leave it out or try again."),
            code="location_outside",
        )
    return lat, lng


def self_report_grids() -> QuerySet:
    """The grids a poster may open a report form for: active grids."""
    return Region.objects.filter(level=RegionLevel.GRID, is_active=True)


def self_report_categories():
    """The categories a resident picks from: active ones, in catalogue order."""
    return Category.objects.filter(is_active=True).order_by("tree_id", "lft")


def ticket_self_report(
    *,
    grid_id: int,
    description: str,
    phone: str,
    category: Category | None = None,
    address: str = "",
    latitude=None,
    longitude=None,
    photos=(),
    client_ip: str = "",
    channel: str = "qr",
    event_data: dict | None = None,
) -> Ticket:
    """A resident's report from a grid's poster (群众自报): a ticket received into
    the street's triage queue, logged as by the reporter; ``channel`` (the QR
    poster's ``qr``, ``open311``) is kept in the event's data, with
    ``event_data`` (e.g. the Open311 ``media_url``).

    Refused: a grid that does not exist or is closed (``OutOfScope``), a missing
    description or a phone that is not a mainland number (``DomainError``), a
    location outside China, too many reports from the address or the phone
    (``Conflict`` ``rate_limited``), and the same description already reported
    in this grid within the window (``Conflict`` ``duplicate_report``).
    """
    description = require_text(description, _("Describe the matter."))
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise DomainError(
            _("The description is too long (at most %(max)d characters).")
            % {"max": DESCRIPTION_MAX_LENGTH},
            code="too_long",
        )
    phone = require_text(
        normalize_phone(phone), _("Give a phone number so that we can call you back.")
    )
    try:
        validate_mainland_phone(phone)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), code="invalid") from None
    address = _normal_text(address)[:ADDRESS_MAX_LENGTH]
    latitude, longitude = _check_location(latitude, longitude)
    if category is not None and not category.is_active:
        raise DomainError(_("Choose a category from the list."), code="invalid")
    self_report_rate_check(client_ip=client_ip, phone=phone)
    checked = check_photos(photos)
    now = timezone.now()
    window = dt.timedelta(hours=setting("TICKETS_SELF_REPORT_DUPLICATE_HOURS", 24))
    with transaction.atomic():
        # Reports to one grid are taken one at a time, so two copies sent at once
        # cannot both pass the duplicate check.
        grid = self_report_grids().select_for_update().filter(pk=grid_id).first()
        if grid is None:
            raise OutOfScope(_("This object does not exist or lies outside your area."))
        if Ticket.objects.filter(
            source=Source.SELF_REPORT,
            region=grid,
            received_at__gte=now - window,
            description=description,
        ).exists():
            raise Conflict(
                _(
                    "The same matter was already reported here. It is being "
                    "handled; please follow it with the tracking link you got."
                ),
                code="duplicate_report",
            )
        ticket = Ticket(
            source=Source.SELF_REPORT,
            region=grid,
            category=category,
            address=address,
            latitude=latitude,
            longitude=longitude,
            reporter_phone=phone,
            description=description,
            received_at=now,
            stage=Stage.RECEIVED,
            stage_entered_at=now,
            deadline_class_id=(
                category.deadline_class_id if category else DeadlineClass.GENERAL
            ),
            holder_region=street_of(grid),
        )
        set_deadline(ticket, start=now, working_days=TRIAGE_WORKING_DAYS)
        ticket.number = numbers.next_ticket_number(now)
        ticket.save()
        event = record_event(
            ticket,
            action=Action.CREATE,
            actor_label=REPORTER_LABEL,
            at=now,
            data={**(event_data or {}), "channel": channel},
        )
        save_photos(ticket, event, checked)
    return ticket


# --- Tracking link -------------------------------------------------------------


def tracking_max_age() -> dt.timedelta:
    return dt.timedelta(days=setting("TICKETS_TRACKING_LINK_MAX_AGE_DAYS", 365))


def tracking_token(*, ticket: Ticket) -> str:
    """A signed token bound to the ticket and its reporter's phone."""
    return signing.dumps(
        {"t": ticket.pk, "p": _phone_digest(ticket.reporter_phone)},
        salt=TRACKING_SALT,
        compress=True,
    )


def tracking_url(*, ticket: Ticket) -> str:
    return reverse("m:tickets:track", args=[ticket.pk, tracking_token(ticket=ticket)])


def _invalid_link() -> DomainError:
    return DomainError(_("This tracking link is not valid."), code="link_invalid")


# What the resident reads for each step of the log: the stages, in words for the
# public, without who did it.
PUBLIC_STEPS = {
    Action.CREATE: gettext_lazy("Your report was received"),
    Action.TRIAGE: gettext_lazy("Checked and assigned by the street centre"),
    Action.DISPATCH: gettext_lazy("Sent to the unit that handles it"),
    Action.ACCEPT: gettext_lazy("Accepted: someone is going on site"),
    Action.RETURN: gettext_lazy("Sent back to the street centre to reassign"),
    Action.REPORT_UP: gettext_lazy("Reported up to the level above"),
    Action.ESCALATE: gettext_lazy("Overdue: raised to the level above"),
    Action.HANDLE: pgettext_lazy("public step", "Handled"),
    Action.EVALUATE: gettext_lazy("Your verdict was recorded"),
    Action.REWORK: gettext_lazy("Sent back for rework after your verdict"),
    Action.UNEVALUATED: gettext_lazy("No verdict given in time"),
    Action.ASSESS: pgettext_lazy("public step", "Closed"),
    Action.MERGE: gettext_lazy("Joined with a report of the same matter"),
}


def tracking_state(*, ticket_id: int, token: str) -> dict:
    """What the tracking page shows: the ticket (the one it was merged into, if
    so), its public steps, and the evaluation link when it waits for a verdict.
    Raises DomainError for a link that is not valid or has expired; three
    queries."""
    try:
        payload = signing.loads(
            token, salt=TRACKING_SALT, max_age=tracking_max_age().total_seconds()
        )
    except signing.SignatureExpired:
        raise DomainError(
            _("This tracking link has expired. Please call 12345."),
            code="link_expired",
        ) from None
    except signing.BadSignature:
        raise _invalid_link() from None
    if not isinstance(payload, dict) or payload.get("t") != ticket_id:
        raise _invalid_link()
    ticket = (
        Ticket.objects.select_related("category", "merged_into")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None or not constant_time_compare(
        _phone_digest(ticket.reporter_phone), payload.get("p", "")
    ):
        raise _invalid_link()
    phone = ticket.reporter_phone
    shown = ticket.merged_into or ticket
    steps = [
        {"at": event.at, "label": PUBLIC_STEPS[event.action]}
        for event in shown.events.filter(action__in=list(PUBLIC_STEPS)).order_by(
            "at", "pk"
        )
    ]
    evaluate_url = ""
    if shown.stage == Stage.HANDLED and phone in reporter_phones(shown):
        evaluate_url = evaluation_url(ticket=shown, phone=phone)
    return {
        "ticket": shown,
        "reported": ticket,
        "steps": steps,
        "evaluate_url": evaluate_url,
        "done": shown.stage in (Stage.EVALUATED, Stage.CLOSED),
        "after_verdict": after_verdict_link(shown)
        if shown.stage in (Stage.EVALUATED, Stage.CLOSED)
        else None,
    }
