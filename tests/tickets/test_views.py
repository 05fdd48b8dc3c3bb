import pytest
from django.urls import reverse

from tests.tickets.factories import walk_to
from tickets import services
from tickets.choices import Stage, Verdict
from tickets.models import TicketEvaluation

pytestmark = pytest.mark.django_db


def test_resident_evaluates_through_the_link_once(client, lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    url = services.evaluation_url(ticket=ticket)
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="verdict"' in page.content.decode()
    response = client.post(url, {"action": "verdict", "verdict": Verdict.SATISFIED})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.verdict == Verdict.SATISFIED
    page = client.get(url).content.decode()
    assert 'name="verdict"' not in page
    client.post(url, {"action": "verdict", "verdict": Verdict.DISSATISFIED})
    assert TicketEvaluation.objects.filter(ticket=ticket).count() == 1


def test_tampered_and_expired_links(client, lifecycle, settings):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    url = services.evaluation_url(ticket=ticket)
    bad = reverse("tickets:evaluate", args=[ticket.pk, "abc:def:ghi"])
    assert client.get(bad).status_code == 400
    settings.TICKETS_EVALUATION_LINK_MAX_AGE_DAYS = -1
    assert client.get(url).status_code == 410


def test_reporter_sends_a_message_through_the_link(client, lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    url = services.evaluation_url(ticket=ticket)
    response = client.post(url, {"action": "message", "text": "请快点"})
    assert response.status_code == 302
    assert ticket.events.last().note == "请快点"


def test_overlong_comment_through_the_link_shows_an_error(client, lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    url = services.evaluation_url(ticket=ticket)
    response = client.post(
        url,
        {"action": "verdict", "verdict": Verdict.SATISFIED, "comment": "很" * 1001},
        follow=True,
    )
    assert response.status_code == 200
    assert not TicketEvaluation.objects.filter(ticket=ticket).exists()
    assert any("1000" in str(m) for m in response.context["messages"])
