"""The tickets phone pages (/m/tickets/): my tickets, the detail with the
actions allowed now through the shared action layer, reporting an event;
scope (another area's ticket is a 404), idempotent submits, bad input, and
query counts that do not grow with the number of tickets."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.tickets.factories import walk_to
from tickets.choices import Source, Stage, Verdict
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _jpeg(name="photo.jpg", size=(64, 48)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 60, 30)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _key(n=1) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


# --- my tickets --------------------------------------------------------------------


def test_list_shows_my_open_tickets(client, lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    client.force_login(lifecycle["handler"])
    response = client.get(reverse("m:tickets:list"))
    assert response.status_code == 200
    assert [row["ticket"].pk for row in response.context["tickets"]] == [ticket.pk]


def test_list_filters_by_stage_through_the_filterset(client, lifecycle):
    accepted = walk_to(Stage.ACCEPTED, **lifecycle)
    walk_to(Stage.DISPATCHED, **lifecycle)
    client.force_login(lifecycle["community_staff"])
    response = client.get(reverse("m:tickets:list"), {"stage": Stage.ACCEPTED})
    assert [row["ticket"].pk for row in response.context["tickets"]] == [accepted.pk]


def test_list_leaves_out_another_areas_tickets(client, lifecycle, other_tree):
    walk_to(Stage.ACCEPTED, **lifecycle)
    from grids.choices import UserRole
    from tests.grids.factories import UserFactory

    outsider = UserFactory(role=UserRole.GRID_WORKER, region=other_tree["grids"][0])
    client.force_login(outsider)
    response = client.get(reverse("m:tickets:list"))
    assert response.context["tickets"] == []


@pytest.mark.parametrize("tickets", [2, 25])
def test_list_query_count_does_not_grow(
    client, lifecycle, django_assert_max_num_queries, tickets
):
    for _ in range(tickets):
        walk_to(Stage.RECEIVED, **lifecycle)
    client.force_login(lifecycle["street_staff"])
    with django_assert_max_num_queries(8):
        response = client.get(reverse("m:tickets:list"))
    assert len(response.context["tickets"]) == min(tickets, 20)


# --- detail and actions ------------------------------------------------------------


def test_detail_of_another_areas_ticket_is_404(client, lifecycle, other_tree):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    from grids.choices import UserRole
    from tests.grids.factories import UserFactory

    outsider = UserFactory(role=UserRole.GRID_WORKER, region=other_tree["grids"][0])
    client.force_login(outsider)
    assert client.get(reverse("m:tickets:detail", args=[ticket.pk])).status_code == 404
    response = client.post(
        reverse("m:tickets:act", args=[ticket.pk, "handle"]),
        {"result": "done", "idempotency_key": _key()},
    )
    assert response.status_code == 404


def test_detail_offers_only_the_actions_allowed_now(client, lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    client.force_login(lifecycle["handler"])
    response = client.get(reverse("m:tickets:detail", args=[ticket.pk]))
    assert [s.action for s in response.context["offered"]] == ["handle", "report_up"]
    assert (
        client.get(reverse("m:tickets:act", args=[ticket.pk, "handle"])).status_code
        == 200
    )
    client.force_login(lifecycle["community_staff"])
    response = client.get(reverse("m:tickets:detail", args=[ticket.pk]))
    assert response.context["offered"] == []
    # A step not allowed now sends back to the ticket.
    response = client.get(reverse("m:tickets:act", args=[ticket.pk, "handle"]))
    assert response.status_code == 302


@pytest.mark.parametrize("photos", [0, 5])
@pytest.mark.parametrize(
    ("stage", "who"),
    [
        (Stage.DISPATCHED, "community_staff"),  # the accept form lists handlers
        (Stage.ACCEPTED, "handler"),
        (Stage.HANDLED, "community_staff"),
    ],
)
def test_detail_query_count_is_bounded(
    client, lifecycle, django_assert_max_num_queries, stage, who, photos
):
    ticket = walk_to(Stage.ACCEPTED if photos else stage, **lifecycle)
    if photos:
        from tickets import services

        services.ticket_handle(
            actor=lifecycle["handler"],
            ticket_id=ticket.pk,
            result="已清理",
            photos=[_jpeg() for _ in range(photos)],
        )
    client.force_login(lifecycle[who])
    with django_assert_max_num_queries(8):
        response = client.get(reverse("m:tickets:detail", args=[ticket.pk]))
    assert response.status_code == 200
    for spec in response.context["offered"]:
        with django_assert_max_num_queries(8):
            page = client.get(reverse("m:tickets:act", args=[ticket.pk, spec.action]))
        assert page.status_code == 200


def test_desk_actions_are_not_offered_on_the_phone(client, lifecycle):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    client.force_login(lifecycle["street_staff"])
    response = client.get(reverse("m:tickets:detail", args=[ticket.pk]))
    assert response.context["offered"] == []
    response = client.post(
        reverse("m:tickets:act", args=[ticket.pk, "triage"]),
        {"idempotency_key": _key()},
    )
    assert response.status_code == 404


def test_accept_through_the_action_layer(client, lifecycle):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    client.force_login(lifecycle["community_staff"])
    response = client.post(
        reverse("m:tickets:act", args=[ticket.pk, "accept"]),
        {"handler": lifecycle["handler"].pk, "idempotency_key": _key()},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.stage == Stage.ACCEPTED
    assert ticket.handler == lifecycle["handler"]


def test_accept_refused_when_another_worker_accepted_first(client, lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    client.force_login(lifecycle["community_staff"])
    response = client.post(
        reverse("m:tickets:act", args=[ticket.pk, "accept"]),
        {"handler": lifecycle["handler"].pk, "idempotency_key": _key()},
    )
    assert response.status_code == 400
    messages = [str(m) for m in response.context["messages"]]
    assert messages and any(messages)
    assert TicketEvent.objects.filter(ticket=ticket, action="accept").count() == 1


def test_handle_with_a_photo_and_the_same_key_twice_is_one_event(client, lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    client.force_login(lifecycle["handler"])
    url = reverse("m:tickets:act", args=[ticket.pk, "handle"])
    data = {"result": "已清理", "cause": "摊贩", "idempotency_key": _key(7)}
    first = client.post(url, {**data, "photos": [_jpeg()]})
    second = client.post(url, {**data, "photos": [_jpeg()]})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert TicketEvent.objects.filter(ticket=ticket, action="handle").count() == 1
    assert ticket.photos.count() == 1


def test_same_key_with_other_content_is_refused(client, lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    client.force_login(lifecycle["handler"])
    url = reverse("m:tickets:act", args=[ticket.pk, "report_up"])
    client.post(url, {"reason": "需要上级协调", "idempotency_key": _key(8)})
    response = client.post(url, {"reason": "别的理由", "idempotency_key": _key(8)})
    assert response.status_code == 400
    assert TicketEvent.objects.filter(ticket=ticket, action="report_up").count() == 1


def test_handle_refuses_a_text_file_renamed_jpg(client, lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    client.force_login(lifecycle["handler"])
    fake = SimpleUploadedFile("photo.jpg", b"not an image at all", "image/jpeg")
    response = client.post(
        reverse("m:tickets:act", args=[ticket.pk, "handle"]),
        {"result": "已清理", "photos": [fake], "idempotency_key": _key()},
    )
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.stage == Stage.ACCEPTED
    assert not TicketEvent.objects.filter(ticket=ticket, action="handle").exists()


def test_phone_verdict_satisfied(client, lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    client.force_login(lifecycle["community_staff"])
    response = client.post(
        reverse("m:tickets:act", args=[ticket.pk, "evaluate"]),
        {
            "verdict": Verdict.SATISFIED,
            "call_note": "电话回访本人",
            "idempotency_key": _key(),
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.stage == Stage.EVALUATED
    assert ticket.verdict == Verdict.SATISFIED


# --- report an event ---------------------------------------------------------------


def _report(lifecycle, **extra):
    data = {
        "category": lifecycle["category"].pk,
        "region": lifecycle["tree"]["grids"][0].pk,
        "description": "小区门口堆放垃圾",
        "latitude": "31.230400",
        "longitude": "121.473700",
        "idempotency_key": _key(3),
        "photos": [_jpeg()],
    }
    data.update(extra)
    return data


def test_report_an_event_lands_in_the_triage_queue(client, lifecycle):
    worker = lifecycle["handler"]
    client.force_login(worker)
    assert client.get(reverse("m:tickets:report")).status_code == 200
    response = client.post(reverse("m:tickets:report"), _report(lifecycle))
    assert response.status_code == 302
    ticket = Ticket.objects.get(created_by=worker)
    assert ticket.source == Source.PATROL
    assert ticket.stage == Stage.RECEIVED
    assert ticket.photos.count() == 1
    assert response["Location"] == reverse("m:tickets:detail", args=[ticket.pk])


def test_report_sent_twice_with_one_key_is_one_ticket(client, lifecycle):
    client.force_login(lifecycle["handler"])
    first = client.post(reverse("m:tickets:report"), _report(lifecycle))
    second = client.post(reverse("m:tickets:report"), _report(lifecycle))
    assert first["Location"] == second["Location"]
    assert Ticket.objects.count() == 1


def test_report_needs_a_photo(client, lifecycle):
    client.force_login(lifecycle["handler"])
    data = _report(lifecycle)
    del data["photos"]
    response = client.post(reverse("m:tickets:report"), data)
    assert response.status_code == 400
    assert "photos" in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_report_refuses_a_location_outside_china(client, lifecycle):
    client.force_login(lifecycle["handler"])
    response = client.post(
        reverse("m:tickets:report"),
        _report(lifecycle, latitude="48.856600", longitude="2.352200"),
    )
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert not Ticket.objects.exists()


def test_report_refuses_a_30_mb_photo(client, lifecycle, settings):
    client.force_login(lifecycle["handler"])
    big = SimpleUploadedFile(
        "big.jpg", b"\xff\xd8\xff" + b"0" * (30 * 1024 * 1024), "image/jpeg"
    )
    response = client.post(
        reverse("m:tickets:report"), _report(lifecycle, photos=[big])
    )
    assert response.status_code in (400, 413)
    assert not Ticket.objects.exists()


def test_report_refuses_a_place_outside_my_area(client, lifecycle, other_tree):
    client.force_login(lifecycle["handler"])
    response = client.post(
        reverse("m:tickets:report"),
        _report(lifecycle, region=other_tree["grids"][0].pk),
    )
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_duplicates_partial_shows_a_likely_same_ticket(client, lifecycle):
    first = walk_to(Stage.TRIAGED, **lifecycle)
    client.force_login(lifecycle["handler"])
    response = client.get(
        reverse("m:tickets:duplicates"),
        {
            "region": lifecycle["tree"]["grids"][0].pk,
            "category": lifecycle["category"].pk,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert [t.pk for t in response.context["duplicates"]] == [first.pk]


def test_category_search_partial(client, lifecycle):
    client.force_login(lifecycle["handler"])
    response = client.get(reverse("m:tickets:categories"), {"category_q": "占道"})
    assert [c.pk for c in response.context["categories"]] == [lifecycle["category"].pk]
