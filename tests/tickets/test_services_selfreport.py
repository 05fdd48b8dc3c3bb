"""码上办: a resident's report from a grid's poster, its limits and its tracking
link."""

import datetime as dt
import io
import threading

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from PIL import Image

from grids.errors import Conflict, DomainError, OutOfScope
from tests.tickets.factories import walk_to
from tickets import services
from tickets.choices import Action, Source, Stage
from tickets.models import Ticket
from tickets.services import selfreport

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def jpeg(size=(64, 48)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, format="JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


def report(grid, **kw):
    data = {
        "grid_id": grid.pk,
        "description": "楼道堆放杂物，堵塞消防通道",
        "phone": "13912345678",
        "client_ip": "10.0.0.1",
    }
    data.update(kw)
    return services.ticket_self_report(**data)


def test_self_report_lands_in_the_street_triage_queue(
    tree, category, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    grid = tree["grids"][0]
    ticket = report(
        grid, category=category, photos=[jpeg()], latitude=36.67, longitude=117.02
    )
    assert ticket.source == Source.SELF_REPORT
    assert ticket.stage == Stage.RECEIVED
    assert ticket.holder_region == tree["street"]
    assert ticket.stage_deadline is not None
    assert ticket.number
    assert ticket.photos.count() == 1
    event = ticket.events.get()
    assert event.action == Action.CREATE
    assert event.actor is None and event.actor_label == "reporter"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"description": "  "}, "required"),
        ({"phone": ""}, "required"),
        ({"phone": "12345"}, "invalid"),
        ({"latitude": 48.85, "longitude": 2.35}, "location_outside"),
        ({"latitude": "abc", "longitude": "1"}, "invalid"),
        ({"description": "长" * 1001}, "too_long"),
    ],
)
def test_self_report_refuses_bad_input_and_writes_nothing(tree, change, code):
    with pytest.raises(DomainError) as exc:
        report(tree["grids"][0], **change)
    assert exc.value.code == code
    assert not Ticket.objects.exists()


def test_self_report_refuses_a_text_file_renamed_jpg(tree):
    fake = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    with pytest.raises(DomainError) as exc:
        report(tree["grids"][0], photos=[fake])
    assert exc.value.code == "photo_type"
    assert not Ticket.objects.exists()


def test_self_report_to_a_closed_or_unknown_grid_does_not_exist(tree):
    grid = tree["grids"][0]
    grid.is_active = False
    grid.save(update_fields=["is_active"])
    for grid_id in (grid.pk, 999_999, tree["communities"][0].pk):
        with pytest.raises(OutOfScope):
            report(grid, grid_id=grid_id)
    assert not Ticket.objects.exists()


def test_same_content_in_the_same_grid_is_one_ticket(tree):
    grid = tree["grids"][0]
    report(grid)
    with pytest.raises(Conflict) as exc:
        report(grid, phone="13900000000", client_ip="10.0.0.2")
    assert exc.value.code == "duplicate_report"
    report(tree["grids"][1], phone="13900000000", client_ip="10.0.0.2")
    assert Ticket.objects.count() == 2


def test_rate_limit_per_address(tree, settings):
    settings.TICKETS_SELF_REPORT_PER_IP = 2
    grid = tree["grids"][0]
    report(grid, description="一", phone="13900000001")
    report(grid, description="二", phone="13900000002")
    with pytest.raises(Conflict) as exc:
        report(grid, description="三", phone="13900000003")
    assert exc.value.code == "rate_limited"
    report(grid, description="三", phone="13900000003", client_ip="10.0.0.9")
    assert Ticket.objects.count() == 3


def test_rate_limit_per_phone(tree, settings):
    settings.TICKETS_SELF_REPORT_PER_PHONE = 1
    grid = tree["grids"][0]
    report(grid, description="一")
    with pytest.raises(Conflict) as exc:
        report(grid, description="二", client_ip="10.0.0.2", phone="+86 139 1234 5678")
    assert exc.value.code == "rate_limited"
    assert Ticket.objects.count() == 1


def test_tracking_link_shows_public_steps_and_the_evaluation_at_the_end(
    tree, lifecycle
):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    token = services.tracking_token(ticket=ticket)
    state = services.tracking_state(ticket_id=ticket.pk, token=token)
    labels = [str(step["label"]) for step in state["steps"]]
    assert labels[0] == str(selfreport.PUBLIC_STEPS[Action.CREATE])
    assert str(selfreport.PUBLIC_STEPS[Action.HANDLE]) in labels
    assert state["evaluate_url"].startswith(f"/tickets/evaluate/{ticket.pk}/")
    services.ticket_evaluate_by_link(
        ticket_id=ticket.pk,
        token=state["evaluate_url"].rstrip("/").rsplit("/", 1)[1],
        verdict="satisfied",
    )
    state = services.tracking_state(ticket_id=ticket.pk, token=token)
    assert state["done"] and not state["evaluate_url"]


def test_tracking_link_before_handling_has_no_evaluation(tree, lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    state = services.tracking_state(
        ticket_id=ticket.pk, token=services.tracking_token(ticket=ticket)
    )
    assert state["evaluate_url"] == ""
    assert not state["done"]


def test_tracking_link_refused_for_another_ticket_or_a_forged_token(tree, lifecycle):
    first = walk_to(Stage.RECEIVED, **lifecycle)
    second = walk_to(Stage.RECEIVED, description="另一件事", **lifecycle)
    token = services.tracking_token(ticket=first)
    for ticket_id, value in ((second.pk, token), (first.pk, token + "x")):
        with pytest.raises(DomainError) as exc:
            services.tracking_state(ticket_id=ticket_id, token=value)
        assert exc.value.code == "link_invalid"
    # The evaluation link's token is not a tracking token (another salt).
    evaluation_token = services.evaluation_token(ticket=first)
    with pytest.raises(DomainError):
        services.tracking_state(ticket_id=first.pk, token=evaluation_token)


def test_tracking_link_expires(tree, lifecycle, settings, time_machine):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    token = services.tracking_token(ticket=ticket)
    settings.TICKETS_TRACKING_LINK_MAX_AGE_DAYS = 1
    time_machine.move_to(timezone.now() + dt.timedelta(days=2))
    with pytest.raises(DomainError) as exc:
        services.tracking_state(ticket_id=ticket.pk, token=token)
    assert exc.value.code == "link_expired"


def test_tracking_a_merged_report_follows_the_ticket_it_joined(
    tree, lifecycle, street_staff
):
    survivor = walk_to(Stage.TRIAGED, **lifecycle)
    duplicate = report(tree["grids"][0])
    services.ticket_merge(
        actor=street_staff, ticket_id=duplicate.pk, into_id=survivor.pk
    )
    state = services.tracking_state(
        ticket_id=duplicate.pk, token=services.tracking_token(ticket=duplicate)
    )
    assert state["ticket"] == survivor
    assert state["reported"] == duplicate


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks need PostgreSQL; SQLite serialises writers",
)
def test_the_same_report_sent_twice_at_once_is_one_ticket(tree):
    """Two copies of one report racing (two phones, two addresses): the grid's
    lock makes the second see the first, so exactly one ticket is written."""
    grid = tree["grids"][0]
    barrier = threading.Barrier(2)
    results = []

    def send(phone, ip):
        try:
            barrier.wait(timeout=10)
            report(grid, phone=phone, client_ip=ip)
            results.append("ok")
        except DomainError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=("13900000001", "10.0.0.1")),
        threading.Thread(target=send, args=("13900000002", "10.0.0.2")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["duplicate_report", "ok"]
    assert Ticket.objects.count() == 1
