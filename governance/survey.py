"""以下评上: the residents' survey of their grid workers (seed 002: residents rate
工作态度, 工作作风 and 服务成效, "让群众有真正的评价权").

A grid's survey runs per period (a month or a quarter: the rule set's
``survey_period``). Residents answer through a signed link (django.core.signing,
no account) that names the grid, the period and the respondent: a household
(the link the survey job sends by SMS, ``survey_send_links``) or the reporter of
a ticket (the link the ticket's evaluation page shows after the verdict,
``ticket_survey_link``; tickets never import governance: the page finds this
function through ``settings.TICKETS_AFTER_VERDICT_LINK``). One answer per
respondent, grid and period: a unique constraint refuses the second one, even
when two arrive at the same moment.

What the answers give (docs/domain-rules.md "Residents' survey"): a grid's
survey value of a period is ``(mean item − 1) / 4`` over every item of every
answer (0 when all answered 1, 1 when all answered 5); the rating job mixes it
into the grid score with the rule set's ``survey_weight`` and the five-star
appraisal pools it over a worker's grids.
"""

import datetime as dt
import logging

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import Avg, Count, F, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from grids import permissions as grid_permissions
from grids.choices import RegionLevel
from grids.errors import Conflict, DomainError
from grids.masking import mask_phone
from grids.models import Household, Region, Resident
from grids.sms import SmsMessage, send_sms
from grids.validators import is_mobile_phone, normalize_phone

from .dialect import db_datetime, is_postgresql
from .models import SurveyAnswer, SurveyPeriod, SurveySending

logger = logging.getLogger("gridwork.survey")

TOKEN_SALT = "governance.survey-link"
COMMENT_MAX_LENGTH = 1000
ITEMS = ("attitude", "conduct", "effect")
SEND_CHUNK = 2000


def link_max_age() -> dt.timedelta:
    """How long a survey link takes answers: long enough for a quarter's."""
    return dt.timedelta(days=getattr(settings, "SURVEY_LINK_MAX_AGE_DAYS", 120))


# --- periods ---------------------------------------------------------------------


def period_start(day: dt.date, kind: str) -> dt.date:
    """The first day of the month or quarter holding ``day``."""
    if kind == SurveyPeriod.QUARTER:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return day.replace(day=1)


def period_label(start: dt.date, kind: str) -> str:
    if kind == SurveyPeriod.QUARTER:
        return _("%(year)s Q%(quarter)s") % {
            "year": start.year,
            "quarter": (start.month - 1) // 3 + 1,
        }
    return f"{start:%Y-%m}"


def survey_kind_for_grid(grid: Region) -> str:
    """The period of ``grid``'s survey: its street's, district's or the shared
    rule set's ``survey_period`` (the newest version)."""
    from .services import rule_set_for_region

    rule_set = rule_set_for_region(grid)
    return rule_set.survey_period if rule_set else SurveyPeriod.MONTH


# --- links -----------------------------------------------------------------------


def _reporter_key(phone: str) -> str:
    """A ticket reporter as a respondent: a keyed digest of the number."""
    digest = salted_hmac("governance.survey-reporter", normalize_phone(phone))
    return "t" + digest.hexdigest()[:30]


def survey_token(*, grid_id: int, kind: str, start: dt.date, respondent: str) -> str:
    return signing.dumps(
        {"g": grid_id, "k": kind, "s": start.isoformat(), "r": respondent},
        salt=TOKEN_SALT,
        compress=True,
    )


def survey_path(*, grid_id: int, kind: str, start: dt.date, respondent: str) -> str:
    token = survey_token(grid_id=grid_id, kind=kind, start=start, respondent=respondent)
    return reverse("survey:answer", args=[token])


def read_token(token: str) -> dict:
    """The link's grid, period and respondent; DomainError when it is not one
    of ours or has expired."""
    try:
        payload = signing.loads(
            token, salt=TOKEN_SALT, max_age=link_max_age().total_seconds()
        )
    except signing.SignatureExpired:
        raise DomainError(
            _("This survey link has expired."), code="link_expired"
        ) from None
    except signing.BadSignature:
        raise DomainError(
            _("This survey link is not valid."), code="link_invalid"
        ) from None
    try:
        return {
            "grid_id": int(payload["g"]),
            "kind": SurveyPeriod(payload["k"]).value,
            "start": dt.date.fromisoformat(payload["s"]),
            "respondent": str(payload["r"])[:40],
        }
    except (KeyError, TypeError, ValueError):
        raise DomainError(
            _("This survey link is not valid."), code="link_invalid"
        ) from None


def ticket_survey_link(ticket) -> tuple[str, str] | None:
    """The survey link the ticket's evaluation page shows once the resident gave
    a verdict: (path, label), or None (no grid or no reporter phone). Reached
    by the tickets app through ``settings.TICKETS_AFTER_VERDICT_LINK``."""
    grid_id = getattr(ticket, "place_grid_id", None)
    if not grid_id or not ticket.reporter_phone or not ticket.verdict:
        return None
    grid = Region.objects.filter(pk=grid_id, is_active=True).first()
    if grid is None:
        return None
    kind = survey_kind_for_grid(grid)
    start = period_start(timezone.localdate(), kind)
    path = survey_path(
        grid_id=grid.pk,
        kind=kind,
        start=start,
        respondent=_reporter_key(ticket.reporter_phone),
    )
    return path, _("Rate your grid workers (residents' survey)")


# --- answering -------------------------------------------------------------------


def survey_state(*, token: str) -> dict:
    """What the survey page shows for a link: the grid, the period, and whether
    this respondent already answered."""
    data = read_token(token)
    grid = Region.objects.filter(
        pk=data["grid_id"], is_active=True, level=RegionLevel.GRID
    ).first()
    if grid is None:
        raise DomainError(_("This survey link is not valid."), code="link_invalid")
    answered = SurveyAnswer.objects.filter(
        grid=grid,
        period_kind=data["kind"],
        period_start=data["start"],
        respondent=data["respondent"],
    ).exists()
    return {
        "grid": grid,
        "period": period_label(data["start"], data["kind"]),
        "answered": answered,
    }


def _score(value, label) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= 5:
        raise DomainError(
            _("Give %(item)s a mark from 1 to 5.") % {"item": label}, code="invalid"
        )
    return number


def survey_answer_submit(
    *, token: str, attitude, conduct, effect, comment: str = ""
) -> SurveyAnswer:
    """Record one respondent's answer for the link's grid and period. A second
    answer (a double click, two tabs at once, a replayed link) is refused with
    Conflict: the unique constraint decides, not a check before the insert."""
    data = read_token(token)
    labels = {
        "attitude": _("work attitude"),
        "conduct": _("work style"),
        "effect": _("service results"),
    }
    marks = {
        "attitude": _score(attitude, labels["attitude"]),
        "conduct": _score(conduct, labels["conduct"]),
        "effect": _score(effect, labels["effect"]),
    }
    comment = (comment or "").replace("\x00", "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise DomainError(
            _("The comment is too long (at most %(max)d characters).")
            % {"max": COMMENT_MAX_LENGTH},
            code="too_long",
        )
    grid = Region.objects.filter(
        pk=data["grid_id"], is_active=True, level=RegionLevel.GRID
    ).first()
    if grid is None:
        raise DomainError(_("This survey link is not valid."), code="link_invalid")
    respondent = data["respondent"]
    household_id = None
    if respondent.startswith("h"):
        household_id = (
            Household.objects.filter(pk=respondent[1:] or 0, region=grid)
            .values_list("pk", flat=True)
            .first()
            if respondent[1:].isdigit()
            else None
        )
    try:
        with transaction.atomic():
            return SurveyAnswer.objects.create(
                grid=grid,
                period_kind=data["kind"],
                period_start=data["start"],
                respondent=respondent,
                household_id=household_id,
                comment=comment,
                answered_at=timezone.now(),
                **marks,
            )
    except IntegrityError:
        raise Conflict(
            _(
                "Your household has already answered this survey for %(period)s. "
                "Thank you."
            )
            % {"period": period_label(data["start"], data["kind"])},
            code="already_answered",
        ) from None


# --- sending ---------------------------------------------------------------------


def survey_message(*, to: str, url: str, token: str, grid: str) -> SmsMessage:
    body = _(
        "%(grid)s: please rate your grid workers' attitude, style and results "
        "(1 to 5): %(url)s"
    ) % {"grid": grid, "url": url}
    return SmsMessage(to=to, body=body, redacted_body=body.replace(token, "…"))


def _grids_by_kind(grid_ids) -> dict[str, list[int]]:
    """Active grids (all, or ``grid_ids``) grouped by their survey period."""
    from .services import rule_sets_for_grids

    grids = Region.objects.filter(level=RegionLevel.GRID, is_active=True)
    if grid_ids is not None:
        grids = grids.filter(pk__in=list(grid_ids))
    kinds: dict[str, list[int]] = {}
    for grid_id, rule_set in rule_sets_for_grids(grids.values_list("pk", flat=True)):
        kind = rule_set.survey_period if rule_set else SurveyPeriod.MONTH
        kinds.setdefault(kind, []).append(grid_id)
    return kinds


def _household_phones(household_ids: list[int]) -> dict[int, str]:
    """The first active resident's mobile number of each household (decrypted
    in Python: the column is encrypted at rest)."""
    phones: dict[int, str] = {}
    rows = (
        Resident.objects.filter(household_id__in=household_ids, is_active=True)
        .order_by("household_id", "pk")
        .values_list("household_id", "phone")
    )
    for household_id, phone in rows:
        if household_id not in phones and phone and is_mobile_phone(phone):
            phones[household_id] = normalize_phone(phone)
    return phones


def survey_send_links(
    *, base_url: str, day: dt.date | None = None, grid_ids=None
) -> int:
    """Send every household of the active grids (or of ``grid_ids``) its survey
    link of the period holding ``day`` (default: today), by SMS through the
    pluggable sender, after commit. A household is sent one link per period: a
    ``SurveySending`` row is inserted first (ON CONFLICT DO NOTHING … RETURNING),
    and only the households it returns get a message, so a rerun, or two runs
    at once, send nothing twice. Households without a mobile number are left
    out. Returns the links sent."""
    day = day or timezone.localdate()
    now = timezone.now()
    sent = 0
    for kind, grids in _grids_by_kind(grid_ids).items():
        start = period_start(day, kind)
        households = Household.objects.filter(region_id__in=grids).order_by("pk")
        ids = list(households.values_list("pk", flat=True))
        for offset in range(0, len(ids), SEND_CHUNK):
            sent += _send_chunk(
                ids[offset : offset + SEND_CHUNK],
                kind=kind,
                start=start,
                base_url=base_url,
                now=now,
            )
    return sent


def _sendings_insert(rows, *, kind, start, now) -> list[int]:
    """Record the sendings (household, grid, masked phone) of a period, but
    the households already sent one: the households recorded now. One
    statement on PostgreSQL; one per row on SQLite (a development database)."""
    sql = (
        f"INSERT INTO {SurveySending._meta.db_table}"
        " (household_id, grid_id, period_kind, period_start, masked_to, sent_at)"
        " {values}"
        " ON CONFLICT (household_id, period_kind, period_start) DO NOTHING"
        " RETURNING household_id"
    )
    with connection.cursor() as cursor:
        if is_postgresql():
            cursor.execute(
                sql.format(
                    values="SELECT h, g, %s, %s, m, %s"
                    " FROM unnest(%s::bigint[], %s::bigint[], %s::text[])"
                    " AS x(h, g, m)"
                ),
                [
                    kind,
                    start,
                    now,
                    [h for h, _g, _m in rows],
                    [g for _h, g, _m in rows],
                    [m for _h, _g, m in rows],
                ],
            )
            return [row[0] for row in cursor.fetchall()]
        fresh = []
        single = sql.format(values="VALUES (%s, %s, %s, %s, %s, %s)")
        sent_at = db_datetime(now)
        for household, grid, masked in rows:
            cursor.execute(single, [household, grid, kind, start, masked, sent_at])
            fresh += [row[0] for row in cursor.fetchall()]
        return fresh


def _send_chunk(household_ids, *, kind, start, base_url, now) -> int:
    phones = _household_phones(household_ids)
    if not phones:
        return 0
    regions = dict(
        Household.objects.filter(pk__in=list(phones)).values_list("pk", "region_id")
    )
    names = dict(
        Region.objects.filter(pk__in=set(regions.values())).values_list("pk", "name")
    )
    with transaction.atomic():
        fresh = _sendings_insert(
            [(h, regions[h], mask_phone(phones[h])) for h in phones],
            kind=kind,
            start=start,
            now=now,
        )
        messages = []
        for household_id in fresh:
            grid_id = regions[household_id]
            token = survey_token(
                grid_id=grid_id, kind=kind, start=start, respondent=f"h{household_id}"
            )
            url = base_url.rstrip("/") + reverse("survey:answer", args=[token])
            messages.append(
                survey_message(
                    to=phones[household_id], url=url, token=token, grid=names[grid_id]
                )
            )

        def send_all():
            for message in messages:
                send_sms(message)

        transaction.on_commit(send_all)
    return len(fresh)


# --- results ---------------------------------------------------------------------


def survey_results(*, actor, region: Region, start: dt.date, kind: str) -> list[dict]:
    """Per grid of ``region``'s subtree: answers and the mean of each item for
    the period starting ``start`` (one query). Scoped: OutOfScope outside the
    actor's area."""
    grid_permissions.require(grid_permissions.can_view(actor))
    grid_permissions.require_in_scope(actor, region)
    rows = (
        SurveyAnswer.objects.filter(
            period_kind=kind,
            period_start=start,
            grid__tree_id=region.tree_id,
            grid__lft__gte=region.lft,
            grid__rght__lte=region.rght,
        )
        .values("grid_id", grid_name=F("grid__name"))
        .annotate(
            answers=Count("pk"),
            attitude_mean=Avg("attitude"),
            conduct_mean=Avg("conduct"),
            effect_mean=Avg("effect"),
            points=Sum(F("attitude") + F("conduct") + F("effect")),
        )
        .order_by("grid_name", "grid_id")
    )
    results = []
    for row in rows:
        row["value"] = survey_value(row["points"], row["answers"])
        results.append(row)
    return results


def survey_value(points, answers):
    """(mean item − 1) / 4 from the sum of items and the number of answers."""
    from decimal import Decimal

    if not answers:
        return None
    return (Decimal(points) / Decimal(3 * answers) - 1) / 4
