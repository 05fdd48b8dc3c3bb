"""A resident's messages through the evaluation link are limited: at most
``TICKETS_EVALUATION_MAX_MESSAGES`` per round and a few a minute (issue 9,
finding 8)."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone, translation

from grids.errors import DomainError
from tests.tickets.factories import walk_to
from tickets import services
from tickets.choices import Action, Stage, Verdict
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


def _message(ticket, token, text="还没处理吗?"):
    return services.ticket_reporter_message(ticket_id=ticket.pk, token=token, text=text)


def _messages(ticket):
    return TicketEvent.objects.filter(ticket=ticket, action=Action.MESSAGE)


def test_messages_up_to_the_round_limit_are_taken(lifecycle, settings):
    settings.TICKETS_EVALUATION_MAX_MESSAGES = 3
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    token = services.evaluation_token(ticket=ticket)
    start = timezone.now()
    for minute in range(3):
        with time_machine.travel(start + dt.timedelta(minutes=2 * minute)):
            _message(ticket, token, f"第{minute}条")
    assert _messages(ticket).count() == 3


def test_a_message_beyond_the_round_limit_is_refused(lifecycle, settings):
    settings.TICKETS_EVALUATION_MAX_MESSAGES = 2
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    token = services.evaluation_token(ticket=ticket)
    start = timezone.now()
    for minute in range(2):
        with time_machine.travel(start + dt.timedelta(minutes=2 * minute)):
            _message(ticket, token)
    later = start + dt.timedelta(hours=1)
    with time_machine.travel(later), pytest.raises(DomainError) as refused:
        _message(ticket, token)
    assert refused.value.code == "message_limit"
    assert _messages(ticket).count() == 2


def test_the_default_round_limit_is_five(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    token = services.evaluation_token(ticket=ticket)
    start = timezone.now()
    for minute in range(5):
        with time_machine.travel(start + dt.timedelta(minutes=2 * minute)):
            _message(ticket, token)
    later = start + dt.timedelta(hours=1)
    with time_machine.travel(later), pytest.raises(DomainError):
        _message(ticket, token)


def test_a_new_round_takes_messages_again(lifecycle, settings):
    settings.TICKETS_EVALUATION_MAX_MESSAGES = 1
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    first = services.evaluation_token(ticket=ticket)
    _message(ticket, first)
    services.ticket_evaluate_by_link(
        ticket_id=ticket.pk, token=first, verdict=Verdict.DISSATISFIED, comment="没修好"
    )
    ticket.refresh_from_db()
    assert ticket.evaluation_round == 2
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        _message(ticket, services.evaluation_token(ticket=ticket))
    assert _messages(ticket).count() == 2


def test_messages_in_quick_succession_are_refused(lifecycle, settings):
    settings.TICKETS_EVALUATION_MESSAGES_PER_MINUTE = 2
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    token = services.evaluation_token(ticket=ticket)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _message(ticket, token)
        _message(ticket, token)
        with pytest.raises(DomainError) as refused:
            _message(ticket, token)
    assert refused.value.code == "message_rate"
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        _message(ticket, token)
    assert _messages(ticket).count() == 3


def test_the_page_shows_the_limit_in_chinese(client, lifecycle, settings):
    settings.TICKETS_EVALUATION_MAX_MESSAGES = 1
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    url = services.evaluation_url(ticket=ticket)
    client.post(url, {"action": "message", "text": "第一条"})
    with translation.override("zh-hans"):
        response = client.post(
            url,
            {"action": "message", "text": "第二条"},
            follow=True,
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any("已经就此工单发送了 1 条留言" in m for m in shown), shown
    assert _messages(ticket).count() == 1


def test_a_nul_byte_in_a_message_is_no_server_error(client, lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    url = services.evaluation_url(ticket=ticket)
    response = client.post(url, {"action": "message", "text": "请\x00快点"})
    assert response.status_code == 302
    assert _messages(ticket).get().note == "请快点"


def test_a_nul_byte_in_a_verdict_comment_is_no_server_error(client, lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    url = services.evaluation_url(ticket=ticket)
    response = client.post(
        url, {"action": "verdict", "verdict": Verdict.SATISFIED, "comment": "好\x00"}
    )
    assert response.status_code == 302
