"""The staff's pages of the 12345 integration: an administrator makes a
platform and sees its secret once; street staff keep the mappings of their own
area, see the pushes and callbacks of their tickets and resend dead ones;
another street's rows are out of reach."""

import pytest
from django.test import Client
from django.urls import reverse

from grids.choices import UserRole
from tests.grids.factories import UserFactory
from tests.tickets.hotline_helpers import make_platform, push
from tickets import services as ticket_services
from tickets.hotline.choices import DeliveryState
from tickets.models import (
    HotlineAreaMapping,
    HotlineDelivery,
    HotlinePlatform,
)

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_an_administrator_adds_a_platform_and_sees_the_secret_once(admin_user, tree):
    client = _client(admin_user)
    answer = client.post(
        reverse("admin:tickets_hotlineplatform_add"),
        {
            "name": "济南12345",
            "code": "jinan",
            "region": tree["street"].pk,
            "callback_url": "https://12345.example.cn/callback",
            "enabled": "on",
        },
        follow=True,
    )
    assert answer.status_code == 200
    platform = HotlinePlatform.objects.get(code="jinan")
    assert platform.secret in answer.content.decode()
    assert platform.account.region == tree["street"]
    page = client.get(
        reverse("admin:tickets_hotlineplatform_change", args=[platform.pk])
    )
    assert page.status_code == 200
    assert platform.secret not in page.content.decode()


def test_street_staff_cannot_add_or_change_a_platform(street_staff, platform):
    client = _client(street_staff)
    assert client.get(reverse("admin:tickets_hotlineplatform_add")).status_code == 403
    page = client.get(
        reverse("admin:tickets_hotlineplatform_change", args=[platform.pk])
    )
    assert page.status_code == 200  # read-only
    assert platform.plain_secret not in page.content.decode()
    assert b'name="callback_url"' not in page.content


def test_street_staff_map_an_address_prefix_in_their_area(street_staff, platform, tree):
    client = _client(street_staff)
    answer = client.post(
        reverse("admin:tickets_hotlineareamapping_add"),
        {
            "platform": platform.pk,
            "area_code": "",
            "address_prefix": "历下区幸福小区",
            "region": tree["grids"][1].pk,
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    row = HotlineAreaMapping.objects.get()
    assert (row.platform, row.region) == (platform, tree["grids"][1])


def test_another_streets_platform_and_mappings_are_out_of_reach(
    platform, other_tree, admin_user, tree, street_staff
):
    from tickets.hotline import services

    services.hotline_area_mapping_save(
        actor=street_staff, platform=platform, area_code="X1", region=tree["grids"][0]
    )
    outsider = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    client = _client(outsider)
    assert (
        client.get(
            reverse("admin:tickets_hotlineplatform_change", args=[platform.pk])
        ).status_code
        == 302
    )
    listing = client.get(reverse("admin:tickets_hotlineareamapping_changelist"))
    assert platform.name not in listing.content.decode()
    from grids.errors import OutOfScope

    with pytest.raises(OutOfScope):
        services.hotline_area_mapping_save(
            actor=outsider,
            platform=platform,
            area_code="X2",
            region=tree["grids"][0],
        )


def test_staff_see_a_dead_callback_and_send_it_again(
    platform, lifecycle, street_staff, monkeypatch
):
    from grids import broker

    monkeypatch.setattr(broker, "enqueue", lambda *a: True)
    ticket_id = push(Client(), platform).json()["ticket_id"]
    ticket_services.ticket_triage(
        actor=street_staff,
        ticket_id=ticket_id,
        category=lifecycle["category"],
        region=lifecycle["tree"]["grids"][0],
        responsible_leader=street_staff,
    )
    delivery = HotlineDelivery.objects.get()
    HotlineDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.DEAD, attempts=8, last_error="HTTP 503"
    )
    client = _client(street_staff)
    listing = client.get(reverse("admin:tickets_hotlinedelivery_changelist"))
    assert "HTTP 503" in listing.content.decode()
    answer = client.post(
        reverse("admin:tickets_hotlinedelivery_changelist"),
        {"action": "resend", "_selected_action": [str(delivery.pk)]},
        follow=True,
    )
    assert answer.status_code == 200
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 0)
    # The pushes list, with its flags.
    pushes = client.get(reverse("admin:tickets_hotlineinbound_changelist"))
    assert platform.code in pushes.content.decode() or "JN2026120600001" in (
        pushes.content.decode()
    )


def test_a_community_outside_does_not_see_the_pushes(platform, other_community_staff):
    push(Client(), platform)
    client = _client(other_community_staff)
    listing = client.get(reverse("admin:tickets_hotlineinbound_changelist"))
    assert listing.status_code == 200
    assert "JN2026120600001" not in listing.content.decode()


def test_the_pages_answer_for_every_role(
    platform, admin_user, street_staff, community_staff, supervisor
):
    push(Client(), platform)
    for user in (admin_user, street_staff, community_staff, supervisor):
        client = _client(user)
        for name in (
            "hotlineplatform",
            "hotlinecategorymapping",
            "hotlineareamapping",
            "hotlineinbound",
            "hotlinedelivery",
        ):
            answer = client.get(reverse(f"admin:tickets_{name}_changelist"))
            assert answer.status_code == 200, (user.role, name)


def test_the_platforms_secret_never_leaves_in_a_listing(platform, admin_user):
    other = make_platform(admin_user, platform.region, code="second")
    page = _client(admin_user).get(reverse("admin:tickets_hotlineplatform_changelist"))
    text = page.content.decode()
    assert platform.plain_secret not in text and other.plain_secret not in text


def test_street_staff_map_and_change_a_category_code(
    street_staff, platform, category, department
):
    """Both mapping admins share one base: the scoped rows, the platform fixed
    once saved, the save through the table's service."""
    from tickets.models import HotlineCategoryMapping

    client = _client(street_staff)
    answer = client.post(
        reverse("admin:tickets_hotlinecategorymapping_add"),
        {"platform": platform.pk, "code": " 0101 ", "category": category.pk},
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    row = HotlineCategoryMapping.objects.get()
    assert (row.platform, row.code, row.category) == (platform, "0101", category)
    change = reverse("admin:tickets_hotlinecategorymapping_change", args=[row.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert b'name="platform"' not in page.content  # fixed once saved
    answer = client.post(change, {"code": "0102", "category": category.pk})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    row.refresh_from_db()
    assert row.code == "0102" and row.platform == platform
    listing = client.get(reverse("admin:tickets_hotlinecategorymapping_changelist"))
    assert "0102" in listing.content.decode()
