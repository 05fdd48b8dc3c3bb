""" "Make it a topic" on a ticket's pages (staff and phone): the button comes
from partyorg through settings.TICKETS_TOPIC_LINK (tickets never imports
partyorg); one POST raises the topic linked to the ticket, a second click goes
to the same topic; another community's ticket is out of reach."""

import pytest
from django.urls import reverse

from grids.choices import UserRole
from partyorg.deliberation.models import Topic
from tests.grids.factories import UserFactory
from tests.tickets.factories import new_ticket

pytestmark = pytest.mark.django_db


def test_staff_page_button_raises_the_topic_once(client, tree, community_staff):
    ticket = new_ticket(community_staff, tree)
    target = reverse("m:party:topic_from_ticket", args=[ticket.pk])
    client.force_login(community_staff)
    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    body = page.content.decode()
    assert f'action="{target}"' in body and "ticket-topic-link" in body
    first = client.post(target)
    topic = Topic.objects.get(ticket=ticket)
    assert topic.source == "ticket" and topic.community == tree["communities"][0]
    detail = reverse("m:party:topic_detail", args=[topic.pk])
    assert first.status_code == 302 and first["Location"] == detail
    # A second click (or a GET) goes to the existing topic.
    assert client.post(target)["Location"] == detail
    assert client.get(target)["Location"] == detail
    assert Topic.objects.filter(ticket=ticket).count() == 1
    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert f'action="{target}"' in page.content.decode()


def test_phone_page_button_and_scope(client, tree, community_staff, supervisor):
    ticket = new_ticket(community_staff, tree)
    target = reverse("m:party:topic_from_ticket", args=[ticket.pk])
    client.force_login(community_staff)
    page = client.get(reverse("m:tickets:detail", args=[ticket.pk]))
    assert f'action="{target}"' in page.content.decode()
    # A supervisor may not raise topics: no button, and the target refuses.
    client.force_login(supervisor)
    page = client.get(reverse("m:tickets:detail", args=[ticket.pk]))
    assert page.status_code == 200 and target not in page.content.decode()
    assert client.post(target).status_code == 404
    far = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])
    client.force_login(far)
    assert client.post(target).status_code == 404
    assert not Topic.objects.filter(ticket=ticket).exists()


def test_no_button_without_the_setting(client, tree, community_staff, settings):
    settings.TICKETS_TOPIC_LINK = ""
    ticket = new_ticket(community_staff, tree)
    client.force_login(community_staff)
    page = client.get(reverse("m:tickets:detail", args=[ticket.pk]))
    assert "ticket-topic-link" not in page.content.decode()
