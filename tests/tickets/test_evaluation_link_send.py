"""Sending the reporter's evaluation link by SMS: who may, once per double click,
recorded on the ticket without the token; the pluggable sender; the ticket page
panel (whole link, copy button, QR code)."""

import datetime as dt
import json
import logging

import pytest
import time_machine
from django.core.checks import run_checks
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from grids import sms
from grids.choices import UserRole
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from grids.sms import LoggingSmsBackend, SmsMessage
from tests.grids.factories import UserFactory
from tests.tickets.factories import CategoryFactory, handler_for, walk_to
from tickets import services
from tickets.choices import Action, Stage
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db

BASE = "https://gridwork.example/"
PHONE = "13800001111"  # the reporter of walk_to's tickets


@pytest.fixture(autouse=True)
def locmem_sms(settings):
    settings.SMS_BACKEND = "grids.sms.LocmemSmsBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def _send(actor, ticket, **kwargs):
    return services.ticket_send_evaluation_link(
        actor=actor, ticket_id=ticket.pk, base_url=BASE, **kwargs
    )


def _token_of(message: SmsMessage) -> str:
    return message.body.rsplit("/", 2)[-2]


def _sendings(ticket):
    return TicketEvent.objects.filter(ticket=ticket, action=Action.SEND_LINK)


def test_staff_send_the_link_after_commit_and_it_is_recorded(
    lifecycle, locmem_sms, django_capture_on_commit_callbacks
):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    actor = lifecycle["community_staff"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outcome = _send(actor, ticket)
        assert locmem_sms == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    assert outcome.sent is True
    [message] = locmem_sms
    assert message.to == PHONE
    assert message.body.startswith("您反映的问题已办理完毕")
    url = BASE.rstrip("/") + reverse(
        "tickets:evaluate", args=[ticket.pk, _token_of(message)]
    )
    assert url in message.body
    # The link in the message works: it opens the resident's page.
    state = services.evaluation.evaluation_link_state(
        ticket_id=ticket.pk, token=_token_of(message)
    )
    assert state["can_evaluate"] is True

    event = outcome.event
    assert event.action == Action.SEND_LINK
    assert event.actor == actor
    assert event.from_stage == event.to_stage == Stage.HANDLED
    assert event.note == "138****1111"
    assert event.data["to"] == "138****1111"
    assert event.data["round"] == 1
    ticket.refresh_from_db()
    assert ticket.stage == Stage.HANDLED  # sending changes no stage


def test_the_event_never_holds_the_token_or_the_number(
    lifecycle, locmem_sms, django_capture_on_commit_callbacks
):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = _send(lifecycle["community_staff"], ticket)
    token = _token_of(locmem_sms[0])
    event = TicketEvent.objects.get(pk=outcome.event.pk)
    stored = json.dumps([event.note, event.data, event.actor_label], ensure_ascii=False)
    assert token not in stored
    assert token.split(":")[0] not in stored  # not even the signed payload
    assert PHONE not in stored


def test_a_double_click_sends_once(
    lifecycle, locmem_sms, django_capture_on_commit_callbacks
):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    actor = lifecycle["community_staff"]
    with django_capture_on_commit_callbacks(execute=True):
        first = _send(actor, ticket)
        second = _send(actor, ticket)
    assert (first.sent, second.sent) == (True, False)
    assert second.event.pk == first.event.pk
    assert len(locmem_sms) == 1
    assert _sendings(ticket).count() == 1


def test_sent_again_when_asked_or_after_the_interval(
    lifecycle, locmem_sms, settings, django_capture_on_commit_callbacks
):
    settings.TICKETS_EVALUATION_LINK_RESEND_MINUTES = 10
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    actor = lifecycle["community_staff"]
    with django_capture_on_commit_callbacks(execute=True):
        _send(actor, ticket)
        again = _send(actor, ticket, resend=True)
    assert again.sent is True and again.event.data["resend"] is True
    later = timezone.now() + dt.timedelta(minutes=11)
    with (
        time_machine.travel(later, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert _send(actor, ticket).sent is True
    assert len(locmem_sms) == 3
    assert _sendings(ticket).count() == 3


def test_street_staff_of_the_area_may_send(lifecycle, locmem_sms):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    assert _send(lifecycle["street_staff"], ticket).sent is True


@pytest.mark.parametrize("who", ["handler", "supervisor"])
def test_who_may_not_record_a_verdict_may_not_send(
    who, lifecycle, supervisor, locmem_sms, django_capture_on_commit_callbacks
):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    actor = supervisor if who == "supervisor" else lifecycle["handler"]
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(NotAllowed):
        _send(actor, ticket)
    assert locmem_sms == []
    assert not _sendings(ticket).exists()


def test_staff_outside_the_area_may_not_send(lifecycle, other_tree, locmem_sms):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    stranger = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    with pytest.raises(OutOfScope):
        _send(stranger, ticket)
    assert not _sendings(ticket).exists()


@pytest.mark.parametrize("stage", [Stage.ACCEPTED, Stage.EVALUATED])
def test_only_while_the_ticket_waits_for_the_verdict(stage, lifecycle, locmem_sms):
    ticket = walk_to(stage, **lifecycle)
    with pytest.raises(Conflict) as exc:
        _send(lifecycle["community_staff"], ticket)
    assert exc.value.code == "wrong_stage"
    assert not _sendings(ticket).exists()


def test_a_landline_gets_no_text_message(lifecycle, locmem_sms):
    ticket = walk_to(Stage.HANDLED, reporter_phone="0531-86001234", **lifecycle)
    with pytest.raises(DomainError) as exc:
        _send(lifecycle["community_staff"], ticket)
    assert exc.value.code == "not_mobile"
    assert not _sendings(ticket).exists()


def test_only_to_the_reporter(lifecycle, locmem_sms):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    with pytest.raises(NotAllowed) as exc:
        _send(lifecycle["community_staff"], ticket, phone="13900009999")
    assert exc.value.code == "not_reporter"


def test_a_rolled_back_sending_sends_nothing(
    lifecycle, locmem_sms, django_capture_on_commit_callbacks
):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _send(lifecycle["community_staff"], ticket)
        raise RuntimeError("the caller's transaction fails")
    assert locmem_sms == []
    assert not _sendings(ticket).exists()


# --- the sender ------------------------------------------------------------------


def test_the_logging_backend_logs_no_secret(caplog):
    message = SmsMessage(
        to=PHONE,
        body="请评价：https://x.example/tickets/evaluate/1/SECRET-TOKEN/",
        redacted_body="请评价：https://x.example/tickets/evaluate/1/…/",
    )
    with caplog.at_level(logging.INFO, logger="gridwork.sms"):
        LoggingSmsBackend().send(message)
    [record] = caplog.records
    assert record.getMessage() == (
        "SMS to 138****1111: 请评价：https://x.example/tickets/evaluate/1/…/"
    )
    assert "SECRET-TOKEN" not in caplog.text and PHONE not in caplog.text


def test_the_default_backend_logs_the_link_without_its_token(
    lifecycle, settings, caplog, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "grids.sms.LoggingSmsBackend"
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    with (
        caplog.at_level(logging.INFO, logger="gridwork.sms"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        _send(lifecycle["community_staff"], ticket)
    text = caplog.text
    assert "SMS to 138****1111" in text
    assert f"/tickets/evaluate/{ticket.pk}/…/" in text
    assert PHONE not in text


class RefusingBackend(sms.BaseSmsBackend):
    def send(self, message):
        raise sms.SmsError("provider says no")


def test_a_provider_error_is_logged_not_raised_after_commit(
    lifecycle, settings, caplog, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = f"{__name__}.RefusingBackend"
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = _send(lifecycle["community_staff"], ticket)
    assert outcome.sent is True  # the request was made and is on the ticket
    assert "SMS to 138****1111 was not sent" in caplog.text


def test_a_misconfigured_backend_fails_the_system_check(settings):
    settings.SMS_BACKEND = "grids.sms.NoSuchBackend"
    assert "governance.E001" in [e.id for e in run_checks()]
    settings.SMS_BACKEND = "grids.sms.SmsMessage"  # not a sender
    assert "governance.E001" in [e.id for e in run_checks()]
    settings.SMS_BACKEND = "grids.sms.LoggingSmsBackend"
    assert "governance.E001" not in [e.id for e in run_checks()]


# --- the ticket page -------------------------------------------------------------


def _page(ticket):
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def test_ticket_page_shows_the_whole_link_a_copy_button_and_a_qr_code(
    client, lifecycle
):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    client.force_login(lifecycle["community_staff"])
    body = client.get(_page(ticket)).content.decode()
    panel = body.split('class="evaluation-link"')[1].split("</section>")[0]
    assert f"https://testserver/tickets/evaluate/{ticket.pk}/" not in panel
    assert f"http://testserver/tickets/evaluate/{ticket.pk}/" in panel
    assert 'data-copy-from="evaluation-link-url"' in panel
    assert "<svg" in panel and "评价链接二维码" in panel
    assert reverse("tickets:evaluation_link_send", args=[ticket.pk]) in panel
    assert "138****1111" in panel and PHONE not in body
    assert 'src="/static/tickets/evaluation_link.js"' in body
    assert "<script>" not in body.split('id="content-main"')[1]  # no inline script


def test_ticket_page_shows_no_link_to_those_who_may_not_send(client, lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    client.force_login(lifecycle["handler"])
    assert 'class="evaluation-link"' not in client.get(_page(ticket)).content.decode()


def test_send_from_the_ticket_page(client, lifecycle, locmem_sms):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    client.force_login(lifecycle["community_staff"])
    url = reverse("tickets:evaluation_link_send", args=[ticket.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == _page(ticket)
    body = response.content.decode()
    assert "评价链接已发送至 138****1111" in body
    assert "已于" in body  # the panel says when it went out
    response = client.post(url, follow=True)
    assert "不会重复发送" in response.content.decode()
    assert _sendings(ticket).count() == 1
    client.post(url, {"resend": "1"})
    assert _sendings(ticket).count() == 2
    # the timeline lists the sendings
    assert "已发送评价链接" in client.get(_page(ticket)).content.decode()


def test_refused_send_from_the_page_shows_the_reason(client, lifecycle, locmem_sms):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    client.force_login(lifecycle["community_staff"])
    url = reverse("tickets:evaluation_link_send", args=[ticket.pk])
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert not _sendings(ticket).exists()
    assert locmem_sms == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_copy_button_copies_the_whole_link_in_a_browser(browser, live_server, tree):
    from playwright.sync_api import expect

    staff = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    community = UserFactory(
        username="shequ", role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0]
    )
    ticket = walk_to(
        Stage.HANDLED,
        tree=tree,
        street_staff=staff,
        community_staff=community,
        handler=handler_for(tree, 0),
        category=CategoryFactory(name="占道经营"),
    )
    context = browser.new_context(
        locale="zh-CN", permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "shequ")
        page.fill("#id_password", "pass-for-tests")
        page.click("input[type=submit]")
        page.goto(f"{live_server.url}{_page(ticket)}")
        shown = page.inner_text("#evaluation-link-url").strip()
        assert shown.startswith(f"{live_server.url}/tickets/evaluate/{ticket.pk}/")
        assert page.locator(".evaluation-link-qr svg").count() == 1
        page.click("[data-copy-from=evaluation-link-url]")
        # The copy is asynchronous (the clipboard's promise): wait for its state
        # through Playwright's own selector engine. A string predicate
        # (``wait_for_function``) is evaluated by ``eval`` in the page once it has
        # to poll, which the page's CSP (no 'unsafe-eval') refuses.
        expect(page.locator(".evaluation-link-copy-state")).to_have_text("已复制")
        assert page.evaluate("navigator.clipboard.readText()") == shown
    finally:
        context.close()
