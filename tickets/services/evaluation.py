"""评单 and 考单: the resident's verdict (by phone or by a signed one-time link),
sending that link by SMS, the rework loop (返工), 未评价 after the wait, the
assessment, and a reporter's later messages."""

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import JSONObject
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from grids.errors import Conflict, DomainError, NotAllowed
from grids.masking import mask_phone
from grids.sms import SmsMessage, send_sms
from grids.validators import is_mobile_phone, normalize_phone

from .. import permissions
from ..choices import (
    LAST_EVALUATION_ROUND,
    RESIDENT_VERDICTS,
    TRANSITIONS,
    Action,
    EvaluationChannel,
    Stage,
    Verdict,
)
from ..hotline import outbox as hotline_outbox
from ..models import (
    Ticket,
    TicketAssessment,
    TicketEvaluation,
    TicketEvent,
    UsedEvaluationToken,
)
from .batches import Insert, in_locked_batches, update_batch
from .common import (
    closing_level,
    handling_days,
    lock_ticket,
    move,
    notify_on_commit,
    record_event,
    require_text,
    setting,
)

TOKEN_SALT = "tickets.evaluation-link"
REPORTER_LABEL = "reporter"  # actor_label of events by the resident (no account)


# The longest call note (the column's size) and resident comment we keep.
CALL_NOTE_MAX_LENGTH = TicketEvaluation._meta.get_field("call_note").max_length
COMMENT_MAX_LENGTH = 1000


def _check_comment(comment: str) -> str:
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise DomainError(
            _("The comment is too long (at most %(max)d characters).")
            % {"max": COMMENT_MAX_LENGTH},
            code="too_long",
        )
    return comment


def _phone_digest(phone: str) -> str:
    return salted_hmac("tickets.reporter-phone", normalize_phone(phone)).hexdigest()[
        :20
    ]


def link_max_age() -> dt.timedelta:
    return dt.timedelta(days=setting("TICKETS_EVALUATION_LINK_MAX_AGE_DAYS", 14))


def reporter_phones(ticket: Ticket) -> list[str]:
    """The survivor's reporter and the reporters of tickets merged into it."""
    phones = [ticket.reporter_phone] if ticket.reporter_phone else []
    phones += list(
        Ticket.objects.filter(merged_into=ticket)
        .exclude(reporter_phone="")
        .values_list("reporter_phone", flat=True)
    )
    return phones


def evaluation_token(*, ticket: Ticket, phone: str | None = None) -> str:
    """A signed token bound to the ticket, the reporter's phone and the round."""
    phone = phone or ticket.reporter_phone
    if not phone:
        raise DomainError(
            _("The ticket has no reporter phone to send a link to."), code="no_phone"
        )
    return signing.dumps(
        {"t": ticket.pk, "p": _phone_digest(phone), "r": ticket.evaluation_round},
        salt=TOKEN_SALT,
        compress=True,
    )


def evaluation_url(*, ticket: Ticket, phone: str | None = None) -> str:
    token = evaluation_token(ticket=ticket, phone=phone)
    return reverse("tickets:evaluate", args=[ticket.pk, token])


def _read_token(ticket_id: int, token: str) -> dict:
    try:
        payload = signing.loads(
            token, salt=TOKEN_SALT, max_age=link_max_age().total_seconds()
        )
    except signing.SignatureExpired:
        raise DomainError(
            _("This evaluation link has expired. Please call us to give your verdict."),
            code="link_expired",
        ) from None
    except signing.BadSignature:
        raise DomainError(
            _("This evaluation link is not valid."), code="link_invalid"
        ) from None
    if not isinstance(payload, dict) or payload.get("t") != ticket_id:
        raise DomainError(_("This evaluation link is not valid."), code="link_invalid")
    return payload


def _phone_for(ticket: Ticket, digest: str) -> str | None:
    for phone in reporter_phones(ticket):
        if constant_time_compare(_phone_digest(phone), digest):
            return phone
    return None


def _apply_verdict(
    ticket: Ticket,
    *,
    verdict: str,
    comment: str,
    channel: str,
    phone: str,
    recorded_by,
    call_note: str,
    now: dt.datetime,
) -> Ticket:
    if verdict not in RESIDENT_VERDICTS:
        raise DomainError(_("Choose satisfied, fair or dissatisfied."), code="invalid")
    round_ = ticket.evaluation_round
    try:
        with transaction.atomic():
            TicketEvaluation.objects.create(
                ticket=ticket,
                round=round_,
                verdict=verdict,
                comment=comment,
                channel=channel,
                reporter_phone=phone,
                recorded_by=recorded_by,
                call_note=call_note,
                at=now,
            )
    except IntegrityError:
        raise Conflict(
            _("A verdict was already given for this round."), code="already_evaluated"
        ) from None
    from_stage = ticket.stage
    actor_fields = (
        {"actor": recorded_by} if recorded_by else {"actor_label": REPORTER_LABEL}
    )
    data = {"round": round_, "verdict": verdict, "channel": channel}
    if call_note:
        data["call_note"] = call_note
    if verdict == Verdict.DISSATISFIED and round_ < LAST_EVALUATION_ROUND:
        # 返工: back to the handler once, with the resident's comment.
        fields = move(
            ticket,
            TRANSITIONS[Action.REWORK][1],
            now=now,
            working_days=handling_days(ticket),
        )
        ticket.evaluation_round = round_ + 1
        ticket.rework_count += 1
        ticket.save(
            update_fields=[*fields, "evaluation_round", "rework_count", "updated_at"]
        )
        record_event(
            ticket,
            action=Action.REWORK,
            from_stage=from_stage,
            note=comment,
            data=data,
            at=now,
            **actor_fields,
        )
        notify_on_commit(
            recipients=[ticket.handler_id],
            title=_("Ticket %(number)s sent back for rework")
            % {"number": ticket.display_number},
            body=comment,
            url=ticket.get_absolute_url(),
        )
        return ticket
    fields = move(ticket, TRANSITIONS[Action.EVALUATE][1], now=now, working_days=None)
    ticket.verdict = verdict
    ticket.save(update_fields=[*fields, "verdict", "updated_at"])
    record_event(
        ticket,
        action=Action.EVALUATE,
        from_stage=from_stage,
        note=comment,
        data=data,
        at=now,
        **actor_fields,
    )
    return ticket


def ticket_evaluate_by_link(
    *, ticket_id: int, token: str, verdict: str, comment: str = ""
) -> Ticket:
    """评单 by the resident through the signed link: valid once, for its round."""
    payload = _read_token(ticket_id, token)
    comment = _check_comment(comment)
    digest = hashlib.sha256(token.encode()).hexdigest()
    now = timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        if ticket.merged_into_id:
            raise DomainError(
                _("This evaluation link is not valid."), code="link_invalid"
            )
        phone = _phone_for(ticket, payload.get("p", ""))
        if phone is None:
            raise DomainError(
                _("This evaluation link is not valid."), code="link_invalid"
            )
        if (
            payload.get("r") != ticket.evaluation_round
            or ticket.stage not in TRANSITIONS[Action.EVALUATE][0]
            or UsedEvaluationToken.objects.filter(digest=digest).exists()
        ):
            raise Conflict(
                _("This evaluation link has already been used."), code="link_used"
            )
        UsedEvaluationToken.objects.create(digest=digest, ticket=ticket)
        return _apply_verdict(
            ticket,
            verdict=verdict,
            comment=comment,
            channel=EvaluationChannel.LINK,
            phone=phone,
            recorded_by=None,
            call_note="",
            now=now,
        )


def ticket_record_phone_verdict(
    *,
    actor,
    ticket_id: int,
    verdict: str,
    call_note: str,
    reporter_phone: str | None = None,
    comment: str = "",
) -> Ticket:
    """评单 by phone: staff record the reporter's verdict and note the call."""
    call_note = require_text(
        call_note, _("Note the call (when, which number, who answered).")
    )
    if len(call_note) > CALL_NOTE_MAX_LENGTH:
        raise DomainError(
            _("The call note is too long (at most %(max)d characters).")
            % {"max": CALL_NOTE_MAX_LENGTH},
            code="too_long",
        )
    comment = _check_comment(comment)
    now = timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        permissions.require_action(actor, ticket, Action.EVALUATE)
        phone = normalize_phone(reporter_phone or ticket.reporter_phone)
        if not phone or phone not in reporter_phones(ticket):
            raise NotAllowed(
                _("Only the reporter of this ticket can give the verdict."),
                code="not_reporter",
            )
        return _apply_verdict(
            ticket,
            verdict=verdict,
            comment=comment,
            channel=EvaluationChannel.PHONE,
            phone=phone,
            recorded_by=actor,
            call_note=call_note,
            now=now,
        )


def tickets_mark_unevaluated(
    *, now: dt.datetime | None = None, batch_size: int | None = None
) -> int:
    """未评价: tickets with no verdict when the wait is over move on to 考单,
    counted apart (never as satisfied). Set-based, in short transactions of at
    most ``TICKETS_ESCALATION_BATCH`` tickets; a rerun finds nothing."""
    now = now or timezone.now()
    from_stage, to_stage = Stage.HANDLED, TRANSITIONS[Action.UNEVALUATED][1]

    def due():
        return Ticket.objects.filter(stage=from_stage, stage_deadline__lt=now)

    def mark(due, rows) -> int:
        # One statement on PostgreSQL (``batches.update_batch``): the move to
        # 考单, an evaluation and an event per ticket from the updated rows.
        (done,) = update_batch(
            due.filter(pk__in=[row["pk"] for row in rows]),
            {
                "stage": Value(to_stage),
                "verdict": Value(Verdict.UNEVALUATED),
                "stage_entered_at": Value(now, output_field=DateTimeField()),
                "stage_deadline": None,
                "deadline_provisional": False,
                "deadline_basis_at": None,
                "deadline_working_days": None,
                "remind_at": None,
                "updated_at": Value(now, output_field=DateTimeField()),
            },
            inserts=(
                Insert(
                    TicketEvaluation,
                    lambda: {
                        "ticket_id": F("pk"),
                        "round": F("evaluation_round"),
                        "verdict": Value(Verdict.UNEVALUATED),
                        "at": Value(now, output_field=DateTimeField()),
                    },
                    ignore_conflicts=True,
                ),
                Insert(
                    TicketEvent,
                    lambda: {
                        "ticket_id": F("pk"),
                        "action": Value(Action.UNEVALUATED),
                        "actor_label": Value("system"),
                        "at": Value(now, output_field=DateTimeField()),
                        "from_stage": Value(from_stage),
                        "to_stage": Value(to_stage),
                        "data": JSONObject(round=F("evaluation_round")),
                    },
                ),
            ),
        )
        # The platform hears of its tickets' 未评价, in the batch's transaction.
        hotline_outbox.record_for_events(
            TicketEvent.objects.filter(
                ticket_id__in=[row["pk"] for row in rows],
                action=Action.UNEVALUATED,
                at=now,
            )
        )
        return done["count"]

    return in_locked_batches(due, mark, size=batch_size)[0]


SATISFACTION_SCORES = {
    Verdict.SATISFIED: 100,
    Verdict.ORDINARY: 80,
    Verdict.DISSATISFIED: 40,
    Verdict.UNEVALUATED: 60,
}


def suggested_scores(ticket: Ticket) -> dict:
    """A starting point for the assessor: verdict, escalations, rework."""
    return {
        "satisfaction_score": SATISFACTION_SCORES.get(ticket.verdict, 60),
        "timeliness_score": max(0, 100 - 20 * ticket.escalation_level),
        "effect_score": 100 if ticket.evaluation_round == 1 else 70,
    }


def assessment_weights() -> tuple[Decimal, Decimal, Decimal]:
    weights = setting("TICKETS_ASSESSMENT_WEIGHTS", (0.4, 0.3, 0.3))
    return tuple(Decimal(str(w)) for w in weights)


def ticket_assess(
    *,
    actor,
    ticket_id: int,
    satisfaction_score: int,
    timeliness_score: int,
    effect_score: int,
    note: str = "",
) -> TicketAssessment:
    """考单: one assessment per ticket (一事一考评); the ticket then closes."""
    scores = (satisfaction_score, timeliness_score, effect_score)
    if any(not isinstance(s, int) or not 0 <= s <= 100 for s in scores):
        raise DomainError(_("Scores run from 0 to 100."), code="invalid")
    total = sum(
        (Decimal(s) * w for s, w in zip(scores, assessment_weights(), strict=True)),
        Decimal(0),
    ).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    now = timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        permissions.require_action(actor, ticket, Action.ASSESS)
        if TicketAssessment.objects.filter(ticket=ticket).exists():
            raise Conflict(_("This ticket was already assessed."), code="assessed")
        assessment = TicketAssessment.objects.create(
            ticket=ticket,
            satisfaction_score=satisfaction_score,
            timeliness_score=timeliness_score,
            effect_score=effect_score,
            total_score=total,
            note=(note or "").strip(),
            assessor=actor,
            at=now,
        )
        from_stage = ticket.stage
        fields = move(ticket, TRANSITIONS[Action.ASSESS][1], now=now, working_days=None)
        ticket.closed_at = now
        ticket.closing_level = closing_level(ticket)
        ticket.save(update_fields=[*fields, "closed_at", "closing_level", "updated_at"])
        record_event(
            ticket,
            action=Action.ASSESS,
            actor=actor,
            from_stage=from_stage,
            note=assessment.note,
            data={
                "satisfaction": satisfaction_score,
                "timeliness": timeliness_score,
                "effect": effect_score,
                "total": str(total),
            },
            at=now,
        )
    return assessment


def _check_message_limits(*, ticket: Ticket, target: Ticket, now) -> None:
    """A link is no free line into the handler's inbox: at most
    ``TICKETS_EVALUATION_MAX_MESSAGES`` messages through one ticket's links per
    evaluation round, and ``TICKETS_EVALUATION_MESSAGES_PER_MINUTE`` a minute to
    one ticket. Checked under the ticket's lock, so parallel posts count."""
    messages = TicketEvent.objects.filter(
        ticket=target, action=Action.MESSAGE, actor_label=REPORTER_LABEL
    )
    per_round = setting("TICKETS_EVALUATION_MAX_MESSAGES", 5)
    if (
        messages.filter(
            data__via_ticket=ticket.pk, data__round=ticket.evaluation_round
        ).count()
        >= per_round
    ):
        raise DomainError(
            _(
                "You have already sent %(count)s messages about this ticket. "
                "Please call us if there is more to say."
            )
            % {"count": per_round},
            code="message_limit",
        )
    per_minute = setting("TICKETS_EVALUATION_MESSAGES_PER_MINUTE", 2)
    if messages.filter(at__gt=now - dt.timedelta(minutes=1)).count() >= per_minute:
        raise DomainError(
            _("Too many messages in a short time. Please wait a minute."),
            code="message_rate",
        )


def ticket_reporter_message(*, ticket_id: int, token: str, text: str) -> Ticket:
    """A reporter's later message (through their signed link, any round): logged
    on the ticket (the survivor, if merged) and sent to its current handler.
    Limited per round and per minute (``_check_message_limits``)."""
    payload = _read_token(ticket_id, token)
    text = require_text(text, _("Write your message."))[:1000]
    now = timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        if _phone_for(ticket, payload.get("p", "")) is None:
            raise DomainError(
                _("This evaluation link is not valid."), code="link_invalid"
            )
        target = ticket
        if ticket.merged_into_id:
            target = lock_ticket(ticket.merged_into_id)
        _check_message_limits(ticket=ticket, target=target, now=now)
        record_event(
            target,
            action=Action.MESSAGE,
            actor_label=REPORTER_LABEL,
            from_stage=target.stage,
            note=text,
            data={"via_ticket": ticket.pk, "round": ticket.evaluation_round},
            at=now,
        )
        recipient = target.handler_id or target.responsible_leader_id
        notify_on_commit(
            recipients=[recipient] if recipient else [target.created_by_id],
            title=_("Message from the reporter of ticket %(number)s")
            % {"number": target.display_number},
            body=text,
            url=target.get_absolute_url(),
        )
    return target


def after_verdict_link(ticket: Ticket) -> dict | None:
    """The link the resident's pages show once a verdict is given: built by the
    function ``settings.TICKETS_AFTER_VERDICT_LINK`` names (the residents'
    survey of the ticket's grid, in governance: tickets never imports it), as
    ``{"url", "label"}``; None when no verdict yet or no function."""
    path = setting("TICKETS_AFTER_VERDICT_LINK", "")
    if not path or not ticket.verdict or ticket.verdict == Verdict.UNEVALUATED:
        return None
    link = import_string(path)(ticket)
    if not link:
        return None
    url, label = link
    return {"url": url, "label": label}


def evaluation_link_state(*, ticket_id: int, token: str) -> dict:
    """What the resident's page shows for a link: the ticket and whether it still
    takes a verdict. Raises DomainError for an invalid or expired link."""
    payload = _read_token(ticket_id, token)
    ticket = Ticket.objects.select_related("region").filter(pk=ticket_id).first()
    if ticket is None or _phone_for(ticket, payload.get("p", "")) is None:
        raise DomainError(_("This evaluation link is not valid."), code="link_invalid")
    digest = hashlib.sha256(token.encode()).hexdigest()
    can_evaluate = (
        not ticket.merged_into_id
        and ticket.stage in TRANSITIONS[Action.EVALUATE][0]
        and payload.get("r") == ticket.evaluation_round
        and not UsedEvaluationToken.objects.filter(digest=digest).exists()
    )
    return {
        "ticket": ticket,
        "can_evaluate": can_evaluate,
        "after_verdict": None if can_evaluate else after_verdict_link(ticket),
    }


# --- Sending the link by SMS ---------------------------------------------------------


def resend_interval() -> dt.timedelta:
    return dt.timedelta(minutes=setting("TICKETS_EVALUATION_LINK_RESEND_MINUTES", 10))


@dataclass(frozen=True)
class LinkSending:
    """The outcome of ``ticket_send_evaluation_link``: the event that records the
    sending, and whether this call sent it (False: the same link went to the same
    number moments ago and was not sent twice)."""

    event: TicketEvent
    sent: bool


def last_link_sending(
    ticket: Ticket, *, phone: str | None = None, since: dt.datetime | None = None
) -> TicketEvent | None:
    """The latest sending of this round's link (to ``phone``, after ``since``)."""
    events = TicketEvent.objects.filter(
        ticket=ticket, action=Action.SEND_LINK, data__round=ticket.evaluation_round
    )
    if phone:
        events = events.filter(data__p=_phone_digest(phone))
    if since is not None:
        events = events.filter(at__gte=since)
    return events.order_by("-at", "-pk").first()


def evaluation_link_message(*, to: str, url: str, token: str) -> SmsMessage:
    """The text the reporter receives; its log copy leaves the token out."""
    body = _(
        "Your request has been handled. Please tell us whether you are satisfied: "
        "%(url)s"
    ) % {"url": url}
    return SmsMessage(to=to, body=body, redacted_body=body.replace(token, "…"))


def ticket_send_evaluation_link(
    *,
    actor,
    ticket_id: int,
    base_url: str,
    phone: str | None = None,
    resend: bool = False,
) -> LinkSending:
    """Send the reporter the signed evaluation link by SMS, after commit.

    Who may: whoever may record the reporter's verdict on this ticket now (the same
    rule, ``permissions.can_record_verdict``, in 待评单). ``base_url`` is the site's
    address (``https://host``) the link starts with. The sending is an event on the
    ticket with the masked number, never the token. The same round's link to the
    same number is not sent again within ``TICKETS_EVALUATION_LINK_RESEND_MINUTES``
    unless ``resend`` (a double click sends once)."""
    now = timezone.now()
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        permissions.require_action(actor, ticket, Action.EVALUATE)
        phone = normalize_phone(phone or ticket.reporter_phone)
        if not phone:
            raise DomainError(
                _("The ticket has no reporter phone to send a link to."),
                code="no_phone",
            )
        if phone not in reporter_phones(ticket):
            raise NotAllowed(
                _("The link goes only to the reporter of this ticket."),
                code="not_reporter",
            )
        if not is_mobile_phone(phone):
            raise DomainError(
                _(
                    "%(phone)s cannot receive text messages: call the reporter "
                    "and record the verdict instead."
                )
                % {"phone": mask_phone(phone)},
                code="not_mobile",
            )
        if not resend:
            recent = last_link_sending(
                ticket, phone=phone, since=now - resend_interval()
            )
            if recent is not None:
                return LinkSending(event=recent, sent=False)
        token = evaluation_token(ticket=ticket, phone=phone)
        url = base_url.rstrip("/") + reverse(
            "tickets:evaluate", args=[ticket.pk, token]
        )
        message = evaluation_link_message(to=phone, url=url, token=token)
        event = record_event(
            ticket,
            action=Action.SEND_LINK,
            actor=actor,
            from_stage=ticket.stage,
            note=mask_phone(phone),
            data={
                "round": ticket.evaluation_round,
                "to": mask_phone(phone),
                # The keyed digest the link itself carries: which number, unreadable.
                "p": _phone_digest(phone),
                "resend": bool(resend),
            },
            at=now,
        )
        transaction.on_commit(lambda: send_sms(message))
    return LinkSending(event=event, sent=True)
