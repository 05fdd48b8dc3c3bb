"""The "make it a topic" link of a ticket's pages. The tickets app never
imports partyorg: it calls this function through the dotted path in
``settings.TICKETS_TOPIC_LINK`` (as it reaches the survey link through
``TICKETS_AFTER_VERDICT_LINK``)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from . import permissions
from .models import Topic


def ticket_topic_link(ticket, user) -> tuple[str, str] | None:
    """(label, url) of the button on ``ticket``'s pages for ``user``: the
    ticket's topic when it has one the user may see, else "make it a topic"
    when the user may raise one; None otherwise. The url is the one-step view
    (a POST there raises the topic; once raised, it goes to the topic)."""
    topic = (
        Topic.objects.filter(ticket_id=ticket.pk).values_list("pk", "region_id").first()
    )
    url = reverse("m:party:topic_from_ticket", args=[ticket.pk])
    if topic is not None:
        if not Topic.objects.visible_to(user).filter(pk=topic[0]).exists():
            return None
        return _("Open its deliberation topic"), url
    if not permissions.can_raise_topic(user):
        return None
    return _("Make this ticket a topic"), url
