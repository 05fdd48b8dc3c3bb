"""The outbox of 12345 callbacks: a delivery row per stage change of a pushed
ticket, written in the change's transaction (a rolled-back change leaves
none), announced after commit; sent once (a conditional claim), retried with
exponential backoff, dead after the last attempt; the sweep; staff's resend."""

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from grids import broker
from tests.tickets.callback_server import callback_server
from tests.tickets.factories import new_ticket
from tests.tickets.hotline_helpers import push
from tickets import services as ticket_services
from tickets.choices import Action, Stage
from tickets.hotline import outbox, services, signing
from tickets.hotline.choices import DeliveryState
from tickets.models import HotlineDelivery, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced(monkeypatch):
    """The deliveries announced to the broker (after commit), not sent."""
    sent = []
    monkeypatch.setattr(
        broker, "enqueue", lambda task, *args: sent.append((task.name, *args))
    )
    return sent


@pytest.fixture
def pushed(platform):
    ticket_id = push(Client(), platform).json()["ticket_id"]
    return Ticket.objects.get(pk=ticket_id)


def _triage(ticket, lifecycle):
    return ticket_services.ticket_triage(
        actor=lifecycle["street_staff"],
        ticket_id=ticket.pk,
        category=lifecycle["category"],
        region=lifecycle["tree"]["grids"][0],
        responsible_leader=lifecycle["street_staff"],
    )


def _walk_all(ticket, lifecycle, django_capture_on_commit_callbacks):
    """Every stage to 考单 through the services."""
    tree, staff = lifecycle["tree"], lifecycle["street_staff"]
    with django_capture_on_commit_callbacks(execute=True):
        _triage(ticket, lifecycle)
        ticket_services.ticket_dispatch(
            actor=staff,
            ticket_id=ticket.pk,
            handling_region=tree["communities"][0],
            instructions="请尽快处理",
        )
        ticket_services.ticket_accept(
            actor=lifecycle["community_staff"],
            ticket_id=ticket.pk,
            handler=lifecycle["handler"],
        )
        ticket_services.ticket_handle(
            actor=lifecycle["handler"],
            ticket_id=ticket.pk,
            result="已清理占道摊位",
            cause="摊贩",
            measures="劝离",
        )
        ticket_services.ticket_record_phone_verdict(
            actor=lifecycle["community_staff"],
            ticket_id=ticket.pk,
            verdict="satisfied",
            call_note="回访本人",
        )
        ticket_services.ticket_assess(
            actor=staff,
            ticket_id=ticket.pk,
            satisfaction_score=100,
            timeliness_score=100,
            effect_score=90,
        )


def test_every_stage_change_writes_one_delivery_announced_after_commit(
    pushed, lifecycle, announced, django_capture_on_commit_callbacks
):
    _walk_all(pushed, lifecycle, django_capture_on_commit_callbacks)
    deliveries = list(HotlineDelivery.objects.order_by("event_id"))
    assert [d.payload["event"]["action"] for d in deliveries] == [
        Action.TRIAGE,
        Action.DISPATCH,
        Action.ACCEPT,
        Action.HANDLE,
        Action.EVALUATE,
        Action.ASSESS,
    ]
    assert announced == [
        ("tickets.tasks.hotline_deliver", str(d.id)) for d in deliveries
    ]
    assert all(d.state == DeliveryState.PENDING for d in deliveries)
    handled, final = deliveries[3].payload, deliveries[-1].payload
    assert handled["result"] == "已清理占道摊位" and handled["final"] is False
    assert final["final"] is True and final["stage"] == Stage.CLOSED
    assert final["verdict"] == "satisfied" and final["closed_at"]
    assert final["hotline_number"] == pushed.hotline_number
    assert final["delivery_id"] == str(deliveries[-1].id)
    # No personal data goes back.
    for delivery in deliveries:
        text = str(delivery.payload)
        assert "13800001111" not in text and "李四" not in text


def test_a_rolled_back_change_leaves_no_delivery(pushed, lifecycle, announced):
    with pytest.raises(RuntimeError), transaction.atomic():
        _triage(pushed, lifecycle)
        assert HotlineDelivery.objects.count() == 1  # written with the change
        raise RuntimeError("the change fails after the event")
    assert HotlineDelivery.objects.count() == 0
    pushed.refresh_from_db()
    assert pushed.stage == Stage.RECEIVED
    assert announced == []


def test_a_refused_change_leaves_no_delivery(pushed, lifecycle, grid_worker):
    from grids.errors import DomainError

    with pytest.raises(DomainError):
        ticket_services.ticket_triage(
            actor=grid_worker,
            ticket_id=pushed.pk,
            category=lifecycle["category"],
            region=lifecycle["tree"]["grids"][0],
            responsible_leader=lifecycle["street_staff"],
        )
    assert HotlineDelivery.objects.count() == 0


def test_tickets_the_platform_did_not_push_have_no_deliveries(
    lifecycle, street_staff, tree
):
    ticket = new_ticket(street_staff, tree, source="hotline", hotline_number="BYHAND1")
    _triage(ticket, lifecycle)
    patrol = new_ticket(street_staff, tree)
    _triage(patrol, lifecycle)
    assert HotlineDelivery.objects.count() == 0


def test_a_merge_reports_the_merged_ticket_as_final(pushed, lifecycle, street_staff):
    survivor = new_ticket(street_staff, lifecycle["tree"])
    ticket_services.ticket_merge(
        actor=street_staff, ticket_id=pushed.pk, into_id=survivor.pk
    )
    (delivery,) = HotlineDelivery.objects.all()
    assert delivery.payload["event"]["action"] == Action.MERGE
    assert delivery.payload["final"] is True


def test_the_set_based_unevaluated_job_writes_deliveries(
    pushed, lifecycle, announced, django_capture_on_commit_callbacks
):
    tree, staff = lifecycle["tree"], lifecycle["street_staff"]
    _triage(pushed, lifecycle)
    ticket_services.ticket_dispatch(
        actor=staff, ticket_id=pushed.pk, handling_region=tree["communities"][0]
    )
    ticket_services.ticket_accept(
        actor=lifecycle["community_staff"],
        ticket_id=pushed.pk,
        handler=lifecycle["handler"],
    )
    ticket_services.ticket_handle(
        actor=lifecycle["handler"], ticket_id=pushed.pk, result="已处理"
    )
    before = HotlineDelivery.objects.count()
    later = timezone.now() + dt.timedelta(days=60)
    with django_capture_on_commit_callbacks(execute=True):
        assert ticket_services.tickets_mark_unevaluated(now=later) == 1
    new = HotlineDelivery.objects.exclude(
        pk__in=HotlineDelivery.objects.order_by("created_at")[:before].values("pk")
    ).get()
    assert new.payload["event"]["action"] == Action.UNEVALUATED
    assert new.payload["stage"] == Stage.EVALUATED
    assert ("tickets.tasks.hotline_deliver", str(new.id)) in announced


# --- sending -----------------------------------------------------------------------


@pytest.fixture
def delivery(pushed, lifecycle, announced):
    _triage(pushed, lifecycle)
    return HotlineDelivery.objects.get()


def _use(platform, server):
    platform.callback_url = server.url
    platform.save(update_fields=["callback_url"])


def test_a_delivery_is_posted_signed_with_its_id(delivery, platform):
    with callback_server() as server:
        _use(platform, server)
        assert outbox.hotline_delivery_send(delivery_id=delivery.pk) == "delivered"
    ((headers, body, _valid),) = server.received
    assert headers[signing.DELIVERY_HEADER] == str(delivery.pk)
    assert headers[signing.PLATFORM_HEADER] == platform.code
    signing.check_timestamp(headers[signing.TIMESTAMP_HEADER])
    signing.verify(
        platform.plain_secret,
        headers[signing.TIMESTAMP_HEADER],
        body,
        headers[signing.SIGNATURE_HEADER],
    )
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (
        DeliveryState.DELIVERED,
        1,
        200,
    )
    assert delivery.delivered_at is not None


def test_a_delivered_one_is_never_sent_again(delivery, platform):
    with callback_server() as server:
        _use(platform, server)
        outbox.hotline_delivery_send(delivery_id=delivery.pk)
        # The task announced twice, the sweep racing: nothing more is sent.
        assert outbox.hotline_delivery_send(delivery_id=delivery.pk) is None
        assert outbox.hotline_deliveries_sweep(now=timezone.now()) == 0
    assert len(server.received) == 1


def test_a_claimed_one_is_not_sent_by_another_worker(delivery, platform):
    now = timezone.now()
    HotlineDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.SENDING, claimed_until=now + dt.timedelta(minutes=1)
    )
    assert outbox.hotline_delivery_send(delivery_id=delivery.pk, now=now) is None
    # Its claim lapsed (the worker died): taken over.
    with callback_server() as server:
        _use(platform, server)
        later = now + dt.timedelta(minutes=2)
        assert outbox.hotline_delivery_send(delivery_id=delivery.pk, now=later) == (
            "delivered"
        )
    assert len(server.received) == 1


def test_failures_retry_with_exponential_backoff_then_dead(
    delivery, platform, settings, caplog
):
    settings.HOTLINE_MAX_ATTEMPTS = 4
    settings.HOTLINE_RETRY_BASE_SECONDS = 30
    waits = []
    with callback_server() as server:
        _use(platform, server)
        server.statuses = [500, 503, 404, 500]
        for _attempt in range(3):
            before = timezone.now()
            assert outbox.hotline_delivery_send(delivery_id=delivery.pk) == "retry"
            delivery.refresh_from_db()
            waits.append(round((delivery.next_attempt_at - before).total_seconds()))
            # Not due yet: a stray announcement does nothing.
            assert outbox.hotline_delivery_send(delivery_id=delivery.pk) is None
            HotlineDelivery.objects.filter(pk=delivery.pk).update(
                next_attempt_at=timezone.now()
            )
        assert outbox.hotline_delivery_send(delivery_id=delivery.pk) == "dead"
        # Dead: neither a worker nor the sweep sends it again.
        assert outbox.hotline_delivery_send(delivery_id=delivery.pk) is None
        assert outbox.hotline_deliveries_sweep(now=timezone.now()) == 0
    assert waits == [30, 60, 120]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (
        DeliveryState.DEAD,
        4,
        500,
    )
    assert len(server.received) == 4
    assert "dead after 4 attempts" in caplog.text


def test_an_unreachable_platform_is_retried(delivery, platform):
    platform.callback_url = "http://127.0.0.1:9/callback"  # nothing listens
    platform.save(update_fields=["callback_url"])
    assert outbox.hotline_delivery_send(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.last_status is None
    assert "Error" in delivery.last_error


def test_the_backoff_is_capped(settings):
    settings.HOTLINE_RETRY_BASE_SECONDS = 30
    settings.HOTLINE_RETRY_MAX_SECONDS = 3600
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [
        30,
        60,
        120,
        3600,
        3600,
    ]


def test_the_sweep_announces_what_is_due_once(
    delivery, announced, settings, django_capture_on_commit_callbacks
):
    settings.HOTLINE_ANNOUNCE_AGAIN_SECONDS = 120
    announced.clear()
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        # Just written and announced at commit: not again yet.
        assert outbox.hotline_deliveries_sweep(now=now) == 0
        # Redis was down at commit: announced by the sweep once it is due...
        later = now + dt.timedelta(seconds=121)
        assert outbox.hotline_deliveries_sweep(now=later) == 1
        # ...and a second run right after finds nothing new to announce.
        assert outbox.hotline_deliveries_sweep(now=later) == 0
    assert announced == [("tickets.tasks.hotline_deliver", str(delivery.pk))]


def test_the_sweep_takes_retries_when_their_time_comes(delivery, announced):
    now = timezone.now()
    HotlineDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.RETRY,
        attempts=1,
        next_attempt_at=now + dt.timedelta(seconds=30),
        announced_at=None,
    )
    assert outbox.hotline_deliveries_sweep(now=now) == 0
    assert outbox.hotline_deliveries_sweep(now=now + dt.timedelta(seconds=31)) == 1


def test_staff_resend_a_dead_delivery_with_the_same_id(
    delivery, platform, street_staff, announced
):
    HotlineDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.DEAD, attempts=8
    )
    announced.clear()
    with callback_server() as server:
        _use(platform, server)
        with transaction.atomic():
            assert (
                outbox.hotline_deliveries_resend(
                    actor=street_staff, delivery_ids=[delivery.pk]
                )
                == 1
            )
        assert outbox.hotline_delivery_send(delivery_id=delivery.pk) == "delivered"
    assert server.received[0][0][signing.DELIVERY_HEADER] == str(delivery.pk)


def test_a_delivered_one_cannot_be_resent(delivery, street_staff):
    from grids.errors import DomainError

    HotlineDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DELIVERED)
    with pytest.raises(DomainError):
        outbox.hotline_deliveries_resend(actor=street_staff, delivery_ids=[delivery.pk])


def test_resend_is_out_of_reach_for_another_street(delivery, other_tree):
    from grids.choices import UserRole
    from grids.errors import DomainError
    from tests.grids.factories import UserFactory

    outsider = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    HotlineDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DEAD)
    with pytest.raises(DomainError):
        outbox.hotline_deliveries_resend(actor=outsider, delivery_ids=[delivery.pk])
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DEAD


def test_a_switched_off_platform_is_not_called(delivery, platform, admin_user):
    services.hotline_platform_update(
        actor=admin_user, platform_id=platform.pk, enabled=False
    )
    assert outbox.hotline_delivery_send(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING
