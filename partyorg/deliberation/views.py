"""Pages of community deliberation outside the phone app: the public notice
page of a community (公开, no login, behind the community's signed link) and the
printed minutes of a topic (staff, in scope)."""

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from grids import permissions as grid_permissions

from . import selectors
from .choices import MEETING_RULES

NOTICE_SALT = "partyorg.deliberation.notice"


def notice_signature(community) -> str:
    """The signature that opens a community's notice page (a Region or its id).
    It does not expire: a printed QR code keeps working."""
    community_id = getattr(community, "pk", community)
    return signing.Signer(salt=NOTICE_SALT).signature(str(community_id))


def notice_url(community) -> str:
    return reverse(
        "partyorg:deliberation_notice",
        kwargs={
            "community_id": community.pk,
            "signature": notice_signature(community),
        },
    )


def signature_valid(community_id: int, signature: str) -> bool:
    try:
        signing.Signer(salt=NOTICE_SALT).unsign(f"{community_id}:{signature}")
    except signing.BadSignature:
        return False
    return True


def notice(request, community_id: int, signature: str):
    """议事公开: the community's published outcomes, resolutions, execution and
    vote results, for anybody with the link. Names are masked; no phone, ID
    number or birth date is on the page."""
    community = selectors.public_communities().filter(pk=community_id).first()
    if community is None or not signature_valid(community_id, signature):
        raise Http404(_("This link is not valid or has expired."))
    return render(
        request,
        "partyorg/deliberation/notice.html",
        {
            "community": community,
            "topics": selectors.published_topics(community=community),
            "projects_url": reverse(
                "partyorg:micro_project_notice",
                kwargs={"community_id": community.pk, "signature": signature},
            ),
        },
    )


@login_required
def minutes(request, topic_id: int):
    """The printed minutes of a topic: every step record and the seven rules."""
    if not grid_permissions.can_view(request.user):
        raise Http404
    topic = selectors.topic_detail(actor=request.user, topic_id=topic_id)
    if topic is None:
        raise Http404
    return render(
        request,
        "partyorg/deliberation/minutes.html",
        {
            "topic": topic,
            "records": topic.records.all(),
            "items": topic.vote_items.all(),
            "meeting_rules": MEETING_RULES,
            "notice_url": notice_url(topic.community),
        },
    )
