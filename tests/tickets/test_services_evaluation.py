import datetime as dt

import pytest
from django.core import signing
from django.utils import timezone

from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from grids.models import Notification
from tests.tickets.factories import walk_to
from tickets import services
from tickets.choices import Action, Stage, Verdict
from tickets.models import TicketAssessment, TicketEvaluation
from tickets.services.evaluation import TOKEN_SALT

pytestmark = pytest.mark.django_db


def _evaluate(ticket, token, verdict=Verdict.SATISFIED, comment=""):
    return services.ticket_evaluate_by_link(
        ticket_id=ticket.pk, token=token, verdict=verdict, comment=comment
    )


def test_link_verdict_once(lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    token = services.evaluation_token(ticket=ticket)
    _evaluate(ticket, token, Verdict.ORDINARY)
    ticket.refresh_from_db()
    assert ticket.stage == Stage.EVALUATED
    assert ticket.verdict == Verdict.ORDINARY
    evaluation = TicketEvaluation.objects.get(ticket=ticket)
    assert evaluation.channel == "link" and evaluation.recorded_by is None
    assert ticket.events.last().actor_label == "reporter"
    with pytest.raises(Conflict) as exc:
        _evaluate(ticket, token)
    assert exc.value.code == "link_used"


def test_link_expired(lifecycle, settings):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    token = services.evaluation_token(ticket=ticket)
    settings.TICKETS_EVALUATION_LINK_MAX_AGE_DAYS = -1
    with pytest.raises(DomainError) as exc:
        _evaluate(ticket, token)
    assert exc.value.code == "link_expired"
    ticket.refresh_from_db()
    assert ticket.stage == Stage.HANDLED


def test_link_tampered(lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    token = services.evaluation_token(ticket=ticket)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    with pytest.raises(DomainError) as exc:
        _evaluate(ticket, tampered)
    assert exc.value.code == "link_invalid"
    forged = signing.dumps({"t": ticket.pk, "p": "x", "r": 1}, salt="another-salt")
    with pytest.raises(DomainError):
        _evaluate(ticket, forged)


def test_link_for_another_ticket(lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    other = walk_to(Stage.HANDLED, **lifecycle)
    token = services.evaluation_token(ticket=other)
    with pytest.raises(DomainError) as exc:
        _evaluate(ticket, token)
    assert exc.value.code == "link_invalid"


def test_link_with_another_phone_is_refused(lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    token = services.evaluation_token(ticket=ticket, phone="13900009999")
    with pytest.raises(DomainError) as exc:
        _evaluate(ticket, token)
    assert exc.value.code == "link_invalid"


def test_link_before_handling_is_refused(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    token = signing.dumps(
        {"t": ticket.pk, "p": "0", "r": 1}, salt=TOKEN_SALT, compress=True
    )
    with pytest.raises(DomainError):
        _evaluate(ticket, token)


def test_dissatisfied_sends_back_once_and_second_verdict_stands(lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    first = services.evaluation_token(ticket=ticket)
    _evaluate(ticket, first, Verdict.DISSATISFIED, comment="摊贩又回来了")
    ticket.refresh_from_db()
    assert ticket.stage == Stage.ACCEPTED
    assert ticket.evaluation_round == 2
    rework = ticket.events.last()
    assert (rework.action, rework.note) == (Action.REWORK, "摊贩又回来了")
    # The round-1 link cannot be used for round 2.
    services.ticket_handle(
        actor=lifecycle["handler"], ticket_id=ticket.pk, result="再次清理"
    )
    with pytest.raises(Conflict):
        _evaluate(ticket, first, Verdict.SATISFIED)
    second = services.evaluation_token(ticket=ticket)
    _evaluate(ticket, second, Verdict.DISSATISFIED)
    ticket.refresh_from_db()
    assert ticket.stage == Stage.EVALUATED
    assert ticket.verdict == Verdict.DISSATISFIED
    assert TicketEvaluation.objects.filter(ticket=ticket).count() == 2


def test_phone_verdict_needs_call_note_and_the_reporter(lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    staff = lifecycle["community_staff"]
    with pytest.raises(DomainError):
        services.ticket_record_phone_verdict(
            actor=staff, ticket_id=ticket.pk, verdict=Verdict.SATISFIED, call_note=""
        )
    with pytest.raises(NotAllowed):
        services.ticket_record_phone_verdict(
            actor=staff,
            ticket_id=ticket.pk,
            verdict=Verdict.SATISFIED,
            call_note="邻居接听",
            reporter_phone="13900009999",
        )
    services.ticket_record_phone_verdict(
        actor=staff,
        ticket_id=ticket.pk,
        verdict=Verdict.SATISFIED,
        call_note="本人接听",
    )
    evaluation = TicketEvaluation.objects.get(ticket=ticket)
    assert evaluation.recorded_by == staff and evaluation.call_note == "本人接听"
    # Once per round.
    with pytest.raises(Conflict):
        services.ticket_record_phone_verdict(
            actor=staff, ticket_id=ticket.pk, verdict=Verdict.ORDINARY, call_note="再打"
        )


def test_phone_verdict_refuses_a_call_note_longer_than_its_column(lifecycle):
    from tickets.forms import PhoneVerdictForm

    ticket = walk_to(Stage.HANDLED, **lifecycle)
    long_note = "本人接听" * 50 + "。"  # 201 characters
    with pytest.raises(DomainError) as exc:
        services.ticket_record_phone_verdict(
            actor=lifecycle["community_staff"],
            ticket_id=ticket.pk,
            verdict=Verdict.SATISFIED,
            call_note=long_note,
        )
    assert exc.value.code == "too_long"
    ticket.refresh_from_db()
    assert ticket.stage == Stage.HANDLED
    assert not TicketEvaluation.objects.filter(ticket=ticket).exists()
    form = PhoneVerdictForm({"verdict": Verdict.SATISFIED, "call_note": long_note})
    assert not form.is_valid() and "call_note" in form.errors
    form = PhoneVerdictForm(
        {"verdict": Verdict.SATISFIED, "call_note": long_note[:200]}
    )
    assert form.is_valid()


def test_comment_longer_than_1000_characters_is_refused(lifecycle):
    from tickets.forms import PhoneVerdictForm

    ticket = walk_to(Stage.HANDLED, **lifecycle)
    token = services.evaluation_token(ticket=ticket)
    with pytest.raises(DomainError) as exc:
        _evaluate(ticket, token, comment="很" * 1001)
    assert exc.value.code == "too_long"
    with pytest.raises(DomainError):
        services.ticket_record_phone_verdict(
            actor=lifecycle["community_staff"],
            ticket_id=ticket.pk,
            verdict=Verdict.SATISFIED,
            call_note="本人接听",
            comment="很" * 1001,
        )
    assert not TicketEvaluation.objects.filter(ticket=ticket).exists()
    form = PhoneVerdictForm(
        {"verdict": Verdict.SATISFIED, "call_note": "本人接听", "comment": "很" * 1001}
    )
    assert not form.is_valid() and "comment" in form.errors
    # The link was not used up: a comment of 1000 characters is kept.
    _evaluate(ticket, token, comment="很" * 1000)
    assert TicketEvaluation.objects.get(ticket=ticket).comment == "很" * 1000


def test_phone_verdict_refused_to_grid_worker_and_outsider(
    lifecycle, grid_worker, other_tree
):
    from grids.choices import UserRole
    from tests.grids.factories import UserFactory

    ticket = walk_to(Stage.HANDLED, **lifecycle)
    with pytest.raises(NotAllowed):
        services.ticket_record_phone_verdict(
            actor=grid_worker, ticket_id=ticket.pk, verdict="satisfied", call_note="x"
        )
    outsider = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=other_tree["communities"][0]
    )
    with pytest.raises(OutOfScope):
        services.ticket_record_phone_verdict(
            actor=outsider, ticket_id=ticket.pk, verdict="satisfied", call_note="x"
        )


def test_no_verdict_in_time_is_marked_unevaluated_once(lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    assert services.tickets_mark_unevaluated() == 0
    later = ticket.stage_deadline + dt.timedelta(minutes=1)
    assert services.tickets_mark_unevaluated(now=later) == 1
    assert services.tickets_mark_unevaluated(now=later) == 0
    ticket.refresh_from_db()
    assert ticket.stage == Stage.EVALUATED
    assert ticket.verdict == Verdict.UNEVALUATED
    assert ticket.events.filter(action=Action.UNEVALUATED).count() == 1
    from tickets.selectors import verdict_counts

    counts = verdict_counts(actor=lifecycle["street_staff"])
    assert counts[Verdict.UNEVALUATED] == 1 and counts[Verdict.SATISFIED] == 0


def test_assessment_once_then_closed(lifecycle):
    ticket = walk_to(Stage.CLOSED, **lifecycle)
    assessment = TicketAssessment.objects.get(ticket=ticket)
    assert str(assessment.total_score) == "97.00"  # 0.4*100 + 0.3*100 + 0.3*90
    assert ticket.closed_at is not None
    with pytest.raises(Conflict):
        services.ticket_assess(
            actor=lifecycle["street_staff"],
            ticket_id=ticket.pk,
            satisfaction_score=1,
            timeliness_score=1,
            effect_score=1,
        )
    assert TicketAssessment.objects.count() == 1


def test_assessment_refused_before_evaluation_and_to_community_staff(lifecycle):
    handled = walk_to(Stage.HANDLED, **lifecycle)
    with pytest.raises(Conflict):
        services.ticket_assess(
            actor=lifecycle["street_staff"],
            ticket_id=handled.pk,
            satisfaction_score=90,
            timeliness_score=90,
            effect_score=90,
        )
    evaluated = walk_to(Stage.EVALUATED, **lifecycle)
    with pytest.raises(NotAllowed):
        services.ticket_assess(
            actor=lifecycle["community_staff"],
            ticket_id=evaluated.pk,
            satisfaction_score=90,
            timeliness_score=90,
            effect_score=90,
        )
    with pytest.raises(DomainError):
        services.ticket_assess(
            actor=lifecycle["street_staff"],
            ticket_id=evaluated.pk,
            satisfaction_score=101,
            timeliness_score=90,
            effect_score=90,
        )


def test_supervisor_may_assess(lifecycle, supervisor):
    ticket = walk_to(Stage.EVALUATED, **lifecycle)
    services.ticket_assess(
        actor=supervisor,
        ticket_id=ticket.pk,
        satisfaction_score=90,
        timeliness_score=90,
        effect_score=90,
    )


def test_reporter_message_goes_to_the_current_handler(
    lifecycle, django_capture_on_commit_callbacks
):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    token = services.evaluation_token(ticket=ticket)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reporter_message(
            ticket_id=ticket.pk, token=token, text="还没处理吗?"
        )
    assert ticket.events.last().action == Action.MESSAGE
    note = Notification.objects.get(recipient=lifecycle["handler"])
    assert note.body == "还没处理吗?"


def test_merged_reporter_evaluates_the_surviving_ticket(lifecycle):
    survivor = walk_to(Stage.RECEIVED, **lifecycle)
    duplicate = walk_to(Stage.RECEIVED, reporter_phone="13700002222", **lifecycle)
    services.ticket_merge(
        actor=lifecycle["street_staff"], ticket_id=duplicate.pk, into_id=survivor.pk
    )
    duplicate.refresh_from_db()
    assert duplicate.stage == Stage.MERGED and duplicate.merged_into == survivor
    assert duplicate.closed_at is not None
    # Walk the survivor to 评单.
    from tickets.models import Ticket

    s = lifecycle["street_staff"]
    services.ticket_triage_and_dispatch(
        actor=s,
        ticket_id=survivor.pk,
        category=lifecycle["category"],
        region=lifecycle["tree"]["grids"][0],
        responsible_leader=s,
        handling_region=lifecycle["tree"]["communities"][0],
    )
    services.ticket_accept(
        actor=lifecycle["community_staff"],
        ticket_id=survivor.pk,
        handler=lifecycle["handler"],
    )
    services.ticket_handle(
        actor=lifecycle["handler"], ticket_id=survivor.pk, result="ok"
    )
    survivor = Ticket.objects.get(pk=survivor.pk)
    token = services.evaluation_token(ticket=survivor, phone="13700002222")
    services.ticket_evaluate_by_link(
        ticket_id=survivor.pk, token=token, verdict="satisfied"
    )
    assert TicketEvaluation.objects.get(ticket=survivor).reporter_phone == "13700002222"
    # A message on the merged ticket reaches the survivor.
    merged_token = services.evaluation_token(ticket=duplicate)
    target = services.ticket_reporter_message(
        ticket_id=duplicate.pk, token=merged_token, text="谢谢"
    )
    assert target.pk == survivor.pk


def test_evaluation_timestamps_are_now(lifecycle):
    ticket = walk_to(Stage.EVALUATED, **lifecycle)
    evaluation = TicketEvaluation.objects.get(ticket=ticket)
    assert abs(evaluation.at - timezone.now()) < dt.timedelta(minutes=5)
