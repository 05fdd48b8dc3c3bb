"""``POST /api/v1/hotline/tickets``: the platform's push becomes a ticket once;
a replay answers the same; other content under the same number is a 409; a
number of another platform, or a place outside the platform's area, is out of
reach; unmapped category or area lands in the street's triage queue, flagged."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from tests.tickets.factories import CategoryFactory, new_ticket
from tests.tickets.hotline_helpers import URL, make_platform, payload, push
from tickets.choices import Action, Source, Stage
from tickets.hotline import services
from tickets.hotline.choices import TriageFlag
from tickets.models import HotlineInbound, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return Client(raise_request_exception=False)


def test_a_push_becomes_a_ticket_in_the_streets_triage_queue(api, platform, tree):
    answer = push(api, platform)
    assert answer.status_code == 201, answer.content
    body = answer.json()
    ticket = Ticket.objects.get()
    assert body == {
        "hotline_number": "JN2026120600001",
        "ticket_id": ticket.pk,
        "ticket_number": ticket.number,
        "stage": Stage.RECEIVED,
        "received_at": "2026-12-06T01:30:00+00:00",
        "flags": [TriageFlag.CATEGORY_UNMAPPED, TriageFlag.AREA_UNMAPPED],
    }
    assert ticket.source == Source.HOTLINE
    assert ticket.hotline_number == "JN2026120600001"
    assert ticket.reporter_phone == "13800001111"
    assert ticket.reporter_name == "李四"
    assert ticket.description == "小区门口占道经营，影响通行"
    assert ticket.stage == Stage.RECEIVED
    # Unmapped: the platform's own area (the street), no category, flagged.
    assert ticket.region == tree["street"]
    assert ticket.holder_region_id == tree["street"].pk
    assert ticket.category is None
    assert ticket.created_by == platform.account
    event = ticket.events.get()
    assert event.data["hotline_flags"] == body["flags"]
    assert event.data["hotline_platform"] == platform.code


def test_mapped_category_and_area_place_the_ticket(api, platform, tree, street_staff):
    category = CategoryFactory(name="占道经营")
    services.hotline_category_mapping_save(
        actor=street_staff, platform=platform, code="0101", category=category
    )
    services.hotline_area_mapping_save(
        actor=street_staff,
        platform=platform,
        address_prefix="历下区测试街道",
        region=tree["communities"][1],
    )
    services.hotline_area_mapping_save(
        actor=street_staff,
        platform=platform,
        address_prefix="历下区测试街道幸福小区",
        region=tree["grids"][0],
    )
    answer = push(api, platform)
    assert answer.status_code == 201
    assert answer.json()["flags"] == []
    ticket = Ticket.objects.get()
    # The longest prefix wins.
    assert (ticket.category, ticket.region) == (category, tree["grids"][0])
    assert "hotline_flags" not in ticket.events.get().data


def test_an_area_code_wins_over_an_address_prefix(api, platform, tree, street_staff):
    services.hotline_area_mapping_save(
        actor=street_staff,
        platform=platform,
        address_prefix="历下区测试街道幸福小区",
        region=tree["grids"][0],
    )
    services.hotline_area_mapping_save(
        actor=street_staff,
        platform=platform,
        area_code="370102-07",
        region=tree["grids"][3],
    )
    assert push(api, platform, payload(area_code="370102-07")).status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.region == tree["grids"][3]
    assert ticket.hotline_inbound.flags == [TriageFlag.CATEGORY_UNMAPPED]


def test_a_mapping_outside_the_platforms_area_is_refused(
    platform, other_tree, admin_user
):
    from grids.errors import OutOfScope

    with pytest.raises(OutOfScope):
        services.hotline_area_mapping_save(
            actor=admin_user,
            platform=platform,
            address_prefix="外区",
            region=other_tree["grids"][0],
        )


def test_a_mapping_whose_place_left_the_area_is_not_used(
    api, platform, tree, other_tree, street_staff
):
    from tickets.models import HotlineAreaMapping

    row = services.hotline_area_mapping_save(
        actor=street_staff,
        platform=platform,
        address_prefix="历下区",
        region=tree["grids"][0],
    )
    # Written around the service (as if the tree moved): still never used.
    HotlineAreaMapping.objects.filter(pk=row.pk).update(region=other_tree["grids"][0])
    assert push(api, platform).status_code == 201
    assert Ticket.objects.get().region == tree["street"]


def test_the_same_push_again_is_the_same_answer_and_nothing_new(api, platform):
    first = push(api, platform)
    # Spacing and the phone's formatting are not content.
    again = push(
        api,
        platform,
        payload(
            caller_phone="+86 138 0000 1111", content=" 小区门口占道经营，影响通行 "
        ),
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Ticket.objects.count() == 1
    assert TicketEvent.objects.count() == 1


def test_the_same_answer_even_after_the_ticket_moved_on(
    api, platform, street_staff, lifecycle, tree
):
    from tickets import services as ticket_services

    first = push(api, platform).json()
    ticket_services.ticket_triage(
        actor=street_staff,
        ticket_id=first["ticket_id"],
        category=lifecycle["category"],
        region=tree["grids"][0],
        responsible_leader=street_staff,
    )
    again = push(api, platform)
    assert again.status_code == 200
    assert again.json() == first


@pytest.mark.parametrize(
    "change",
    [
        {"content": "楼道堆放杂物"},
        {"address": "历下区2号"},
        {"caller_phone": "13900002222"},
        {"caller_name": "王五"},
        {"category_code": "0202"},
        {"received_at": "2026-12-06T09:31:00+08:00"},
        {"deadline": "2026-12-10T18:00:00+08:00"},
    ],
)
def test_other_content_under_the_same_number_is_a_409_and_changes_nothing(
    api, platform, change
):
    first = push(api, platform).json()
    answer = push(api, platform, payload(**change))
    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "hotline_number_conflict"
    assert body["extra"] == {"ticket": first["ticket_id"]}
    ticket = Ticket.objects.get()
    assert ticket.description == "小区门口占道经营，影响通行"
    assert ticket.reporter_phone == "13800001111"
    assert TicketEvent.objects.count() == 1


def test_another_platforms_number_is_out_of_reach(api, platform, tree, admin_user):
    other = make_platform(admin_user, tree["street"], code="sd12345")
    assert push(api, platform).status_code == 201
    answer = push(api, other)
    assert answer.status_code == 404
    assert answer.json()["code"] == "hotline_number_elsewhere"
    assert Ticket.objects.count() == 1
    assert HotlineInbound.objects.count() == 1


def test_a_number_held_by_a_ticket_outside_the_platforms_area_is_out_of_reach(
    api, platform, other_tree
):
    from grids.choices import UserRole
    from tests.grids.factories import UserFactory

    outsider = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    new_ticket(
        outsider,
        other_tree,
        source=Source.HOTLINE,
        hotline_number="JN2026120600001",
    )
    answer = push(api, platform)
    assert answer.status_code == 404
    assert answer.json()["code"] == "out_of_scope"
    # Nothing of the refused push is kept.
    assert HotlineInbound.objects.count() == 0
    assert Ticket.objects.count() == 1


def test_the_platform_never_places_a_ticket_outside_its_area(
    api, platform, other_tree, admin_user
):
    """Its account is scoped to its region: the service refuses any other."""
    from grids.errors import OutOfScope
    from tickets import services as ticket_services

    with pytest.raises(OutOfScope):
        ticket_services.ticket_create(
            actor=platform.account,
            source=Source.HOTLINE,
            hotline_number="X1",
            region=other_tree["grids"][0],
            description="越界",
        )


def test_a_switched_off_platform_is_refused(api, platform, admin_user):
    services.hotline_platform_update(
        actor=admin_user, platform_id=platform.pk, enabled=False
    )
    answer = push(api, platform)
    assert answer.status_code == 401
    assert answer.json()["extra"] == {"reason": "unknown_platform"}
    platform.account.refresh_from_db()
    assert platform.account.is_active is False


def test_the_platforms_account_cannot_log_in(platform):
    assert not platform.account.has_usable_password()
    assert platform.account.is_staff is False


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'"text"',
        b"{}",
        json.dumps(payload(number="")).encode(),
        json.dumps(payload(content="")).encode(),
        json.dumps(payload(received_at="yesterday")).encode(),
        json.dumps(payload(received_at="2099-01-01T00:00:00+08:00")).encode(),
        json.dumps(payload(number="N" * 41)).encode(),
        json.dumps(payload(content="长" * 4001)).encode(),
        json.dumps(payload(caller_phone="12345")).encode(),
        json.dumps(payload(caller_phone=["13800001111"])).encode(),
        json.dumps(payload(content="a\x00b")).encode(),
        json.dumps(payload(deadline="soon")).encode(),
    ],
)
def test_bad_bodies_are_a_clear_400_and_write_nothing(api, platform, body):
    answer = push(api, platform, body=body)
    assert answer.status_code == 400, answer.content
    assert set(answer.json()) == {"code", "message", "extra"}
    assert answer.json()["message"]
    assert Ticket.objects.count() == 0
    assert HotlineInbound.objects.count() == 0


def test_with_a_trailing_slash_too(api, platform):
    assert push(api, platform, url=URL + "/").status_code == 201


def test_only_post(api, platform):
    answer = api.get(URL)
    assert answer.status_code in (401, 405)
    assert set(answer.json()) == {"code", "message", "extra"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_two_pushes_at_once_are_one_ticket(tree, admin_user):
    platform = make_platform(admin_user, tree["street"])
    barrier = threading.Barrier(4)
    answers = []

    def send():
        try:
            barrier.wait()
            answers.append(push(Client(), platform))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({json.dumps(a.json(), sort_keys=True) for a in answers}) == 1
    assert Ticket.objects.count() == 1
    assert HotlineInbound.objects.count() == 1
    assert TicketEvent.objects.filter(action=Action.CREATE).count() == 1


def test_a_push_and_a_replay_in_a_fixed_number_of_statements(
    api, platform, tree, street_staff, django_assert_max_num_queries
):
    services.hotline_area_mapping_save(
        actor=street_staff, platform=platform, area_code="A1", region=tree["grids"][0]
    )
    push(api, platform, payload(number="WARM", area_code="A1"))  # caches warm
    # Platform, earlier pushes, claim, two mappings, calendar version, number,
    # ticket, event, the answer, and the savepoints (BEGIN/COMMIT here).
    with django_assert_max_num_queries(14):
        assert push(api, platform, payload(area_code="A1")).status_code == 201
    with django_assert_max_num_queries(2):
        assert push(api, platform, payload(area_code="A1")).status_code == 200


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a PostgreSQL plan is checked"
)
def test_a_push_finds_its_numbers_earlier_pushes_by_index(platform):
    """Found measuring the 12345 bench: on an index of (number) alone the
    planner served ``number = … ORDER BY id LIMIT 2`` by walking the primary
    key and filtering every row (11 ms a push at 16,000 pushes, growing with
    the table). On (number, id) it reads the number's rows, in order."""
    rows = [
        HotlineInbound(platform=platform, number=f"N{n:06d}", content_digest="d")
        for n in range(3000)
    ]
    HotlineInbound.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_hotlineinbound")
    sql, params = services._INBOUND_BY_NUMBER.compiled().sql, ["N000123"]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "hotline_inbound_number_id" in plan, plan
    assert "Filter" not in plan, plan
    assert [r.number for r in services._INBOUND_BY_NUMBER.all(number="N000123")] == [
        "N000123"
    ]
