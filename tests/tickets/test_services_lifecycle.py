import io
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from grids.choices import UserRole
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from tests.grids.factories import UserFactory
from tests.tickets.factories import DepartmentFactory, handler_for, new_ticket, walk_to
from tickets import services
from tickets.choices import Action, Source, Stage
from tickets.models import Ticket, TicketEvent, TicketPhoto

pytestmark = pytest.mark.django_db


def _events(ticket):
    return list(ticket.events.order_by("pk").values_list("action", flat=True))


# --- intake ------------------------------------------------------------------


def test_create_sets_one_working_day_deadline_and_logs(tree, street_staff):
    ticket = new_ticket(street_staff, tree)
    assert ticket.stage == Stage.RECEIVED
    assert ticket.stage_deadline is not None
    assert ticket.deadline_working_days == 1
    assert _events(ticket) == [Action.CREATE]
    assert ticket.masked_reporter_phone == "138****1111"


def test_hotline_ticket_pushed_twice_is_one_ticket(tree, street_staff):
    first = new_ticket(
        street_staff, tree, source=Source.HOTLINE, hotline_number="JN2026112200017"
    )
    again = new_ticket(
        street_staff, tree, source=Source.HOTLINE, hotline_number="JN2026112200017"
    )
    assert again.pk == first.pk
    assert Ticket.objects.count() == 1
    assert TicketEvent.objects.count() == 1


def test_hotline_ticket_needs_its_number(tree, street_staff):
    with pytest.raises(DomainError):
        new_ticket(street_staff, tree, source=Source.HOTLINE)
    assert not Ticket.objects.exists()


def test_create_outside_scope_is_refused(tree, other_tree, community_staff):
    with pytest.raises(OutOfScope):
        new_ticket(community_staff, other_tree)
    assert not Ticket.objects.exists()


def test_supervisor_cannot_create(tree, supervisor):
    with pytest.raises(NotAllowed):
        new_ticket(supervisor, tree)


def _jpeg_with_gps():
    image = Image.new("RGB", (8, 8), "red")
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (36.0, 40.0, 12.0)
    gps[3], gps[4] = "E", (117.0, 1.0, 30.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return SimpleUploadedFile("scene.jpg", buffer.getvalue(), "image/jpeg")


def test_photo_is_kept_with_its_gps(tree, street_staff, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    ticket = new_ticket(street_staff, tree, photos=[_jpeg_with_gps()])
    photo = TicketPhoto.objects.get(ticket=ticket)
    assert photo.event.action == Action.CREATE
    assert photo.image.name.endswith(".jpg")
    assert photo.gps_latitude == pytest.approx(36.67, abs=0.01)
    assert photo.gps_longitude == pytest.approx(117.025, abs=0.01)
    with Image.open(photo.image.path) as stored:
        assert not stored.getexif()  # re-encoded: the location is in the row only


def test_renamed_text_file_is_refused_and_nothing_written(tree, street_staff):
    fake = SimpleUploadedFile("photo.jpg", b"this is not a photo", "image/jpeg")
    with pytest.raises(DomainError) as exc:
        new_ticket(street_staff, tree, photos=[fake])
    assert exc.value.code == "photo_type"
    assert not Ticket.objects.exists()


def test_oversized_photo_is_refused(tree, street_staff, settings):
    settings.UPLOAD_MAX_IMAGE_BYTES = 10
    with pytest.raises(DomainError) as exc:
        new_ticket(street_staff, tree, photos=[_jpeg_with_gps()])
    assert exc.value.code == "photo_too_large"


# --- triage and dispatch (制单, 派单) ----------------------------------------------


def test_triage_and_dispatch_in_one_step(tree, street_staff, category):
    ticket = new_ticket(street_staff, tree)
    deadline = ticket.stage_deadline
    services.ticket_triage_and_dispatch(
        actor=street_staff,
        ticket_id=ticket.pk,
        category=category,
        region=tree["grids"][1],
        responsible_leader=street_staff,
        handling_region=tree["communities"][0],
        instructions="当日处置",
    )
    ticket.refresh_from_db()
    assert ticket.stage == Stage.DISPATCHED
    assert ticket.category == category
    assert ticket.responsible_leader == street_staff
    assert ticket.stage_deadline >= deadline
    assert _events(ticket) == [Action.CREATE, Action.TRIAGE, Action.DISPATCH]
    last = ticket.events.last()
    assert (last.from_stage, last.to_stage) == (Stage.TRIAGED, Stage.DISPATCHED)


def test_triage_refused_to_community_staff(lifecycle, community_staff):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    with pytest.raises(NotAllowed):
        services.ticket_triage(
            actor=community_staff,
            ticket_id=ticket.pk,
            category=lifecycle["category"],
            region=lifecycle["tree"]["grids"][0],
            responsible_leader=lifecycle["street_staff"],
        )
    ticket.refresh_from_db()
    assert ticket.stage == Stage.RECEIVED
    assert _events(ticket) == [Action.CREATE]


def test_triage_out_of_scope(lifecycle, other_tree):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    outsider = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    with pytest.raises(OutOfScope):
        services.ticket_triage(
            actor=outsider,
            ticket_id=ticket.pk,
            category=lifecycle["category"],
            region=other_tree["grids"][0],
            responsible_leader=outsider,
        )


def test_triage_refuses_a_leader_outside_the_area_or_inactive(
    lifecycle, other_tree, grid_worker
):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    tree = lifecycle["tree"]
    outsider = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    inactive = UserFactory(
        role=UserRole.STREET_STAFF, region=tree["street"], is_active=False
    )
    # A community's staff leads tickets placed in their own community only.
    elsewhere = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1]
    )
    for leader in (outsider, inactive, grid_worker, elsewhere):
        with pytest.raises(DomainError) as exc:
            services.ticket_triage(
                actor=lifecycle["street_staff"],
                ticket_id=ticket.pk,
                category=lifecycle["category"],
                region=tree["grids"][0],
                responsible_leader=leader,
            )
        assert exc.value.code == "invalid_leader"
    ticket.refresh_from_db()
    assert ticket.stage == Stage.RECEIVED
    assert ticket.responsible_leader_id is None
    assert _events(ticket) == [Action.CREATE]
    community_leader = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0]
    )
    services.ticket_triage(
        actor=lifecycle["street_staff"],
        ticket_id=ticket.pk,
        category=lifecycle["category"],
        region=tree["grids"][0],
        responsible_leader=community_leader,
    )
    ticket.refresh_from_db()
    assert ticket.responsible_leader == community_leader


def test_triage_form_offers_only_leaders_of_the_area(lifecycle, other_tree):
    from tickets.forms import TriageDispatchForm

    outsider = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    form = TriageDispatchForm(user=lifecycle["street_staff"], ticket=ticket)
    offered = set(form.fields["responsible_leader"].queryset)
    assert lifecycle["street_staff"] in offered
    assert outsider not in offered
    assert lifecycle["handler"] not in offered  # a grid worker


def test_triage_needs_a_grid(lifecycle):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    with pytest.raises(DomainError) as exc:
        services.ticket_triage(
            actor=lifecycle["street_staff"],
            ticket_id=ticket.pk,
            category=lifecycle["category"],
            region=lifecycle["tree"]["communities"][0],
            responsible_leader=lifecycle["street_staff"],
        )
    assert exc.value.code == "invalid_region"


def test_dispatch_before_triage_is_wrong_stage(lifecycle):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    with pytest.raises(Conflict) as exc:
        services.ticket_dispatch(
            actor=lifecycle["street_staff"],
            ticket_id=ticket.pk,
            handling_region=lifecycle["tree"]["communities"][0],
        )
    assert exc.value.code == "wrong_stage"


def test_dispatch_to_a_community_that_does_not_hold_the_place(lifecycle):
    ticket = walk_to(Stage.TRIAGED, **lifecycle)
    with pytest.raises(DomainError):
        services.ticket_dispatch(
            actor=lifecycle["street_staff"],
            ticket_id=ticket.pk,
            handling_region=lifecycle["tree"]["communities"][1],
        )


def test_dispatch_needs_exactly_one_unit(lifecycle, department):
    ticket = walk_to(Stage.TRIAGED, **lifecycle)
    with pytest.raises(DomainError):
        services.ticket_dispatch(actor=lifecycle["street_staff"], ticket_id=ticket.pk)
    with pytest.raises(DomainError):
        services.ticket_dispatch(
            actor=lifecycle["street_staff"],
            ticket_id=ticket.pk,
            handling_region=lifecycle["tree"]["communities"][0],
            handling_department=department,
        )


def test_dispatch_to_another_districts_department_is_refused(lifecycle, other_tree):
    ticket = walk_to(Stage.TRIAGED, **lifecycle)
    elsewhere = DepartmentFactory(name="外区城管", region=other_tree["district"])
    before = ticket.stage_deadline
    with pytest.raises(DomainError) as exc:
        services.ticket_dispatch(
            actor=lifecycle["street_staff"],
            ticket_id=ticket.pk,
            handling_department=elsewhere,
        )
    assert exc.value.code == "invalid_department"
    assert "外区城管" in exc.value.message
    ticket.refresh_from_db()
    assert ticket.stage == Stage.TRIAGED
    assert ticket.handling_department_id is None
    assert ticket.stage_deadline == before
    assert _events(ticket) == [Action.CREATE, Action.TRIAGE]


def test_dispatch_to_a_department_of_the_district_or_shared_is_allowed(lifecycle):
    tree = lifecycle["tree"]
    for department in (
        DepartmentFactory(name="区住建", region=tree["district"]),
        DepartmentFactory(name="共享民政", region=None),
    ):
        ticket = walk_to(Stage.TRIAGED, **lifecycle)
        services.ticket_dispatch(
            actor=lifecycle["street_staff"],
            ticket_id=ticket.pk,
            handling_department=department,
        )
        ticket.refresh_from_db()
        assert ticket.handling_department == department


def test_dispatch_forms_offer_only_departments_serving_the_area(lifecycle, other_tree):
    from tickets.forms import DispatchForm, TriageDispatchForm

    tree = lifecycle["tree"]
    ours = DepartmentFactory(name="区住建", region=tree["district"])
    shared = DepartmentFactory(name="共享民政", region=None)
    community = DepartmentFactory(name="社区物业", region=tree["communities"][1])
    elsewhere = DepartmentFactory(name="外区城管", region=other_tree["district"])
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    actor = lifecycle["street_staff"]
    for form in (
        DispatchForm(user=actor),
        TriageDispatchForm(user=actor, ticket=ticket),
    ):
        offered = set(form.fields["handling_department"].queryset)
        assert {ours, shared, community} <= offered
        assert elsewhere not in offered
    # A department of another community is refused for a place outside it.
    form = TriageDispatchForm(
        {
            "category": lifecycle["category"].pk,
            "region": tree["grids"][0].pk,
            "responsible_leader": actor.pk,
            "handling_department": community.pk,
        },
        user=actor,
        ticket=ticket,
    )
    assert not form.is_valid()
    assert "handling_department" in form.errors


def test_bulk_dispatch_reports_each_refusal(lifecycle):
    good = walk_to(Stage.TRIAGED, **lifecycle)
    bad = walk_to(Stage.RECEIVED, **lifecycle)
    done, errors = services.tickets_bulk_dispatch(
        actor=lifecycle["street_staff"],
        ticket_ids=[good.pk, bad.pk],
        handling_region=lifecycle["tree"]["communities"][0],
    )
    assert done == 1
    assert len(errors) == 1 and bad.number in errors[0]


# --- accept or return (接单, 退单) ---------------------------------------------------


def test_accept_names_handler_and_sets_handling_deadline(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    assert ticket.handler == lifecycle["handler"]
    assert ticket.deadline_working_days == 7


def test_hotline_ticket_gets_seven_days_even_when_easy(lifecycle):
    lifecycle["category"].deadline_class = "easy"
    lifecycle["category"].save()
    patrol = walk_to(Stage.ACCEPTED, **lifecycle)
    hotline = walk_to(
        Stage.ACCEPTED, source=Source.HOTLINE, hotline_number="H-1", **lifecycle
    )
    assert patrol.deadline_working_days == 5
    assert hotline.deadline_working_days == 7


def test_hard_ticket_gets_thirty_working_days(lifecycle):
    lifecycle["category"].deadline_class = "hard"
    lifecycle["category"].save()
    assert walk_to(Stage.ACCEPTED, **lifecycle).deadline_working_days == 30


def test_accept_by_another_community_is_refused(lifecycle, other_community_staff):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    with pytest.raises(OutOfScope):
        services.ticket_accept(
            actor=other_community_staff,
            ticket_id=ticket.pk,
            handler=lifecycle["handler"],
        )


def test_accept_by_grid_worker_is_refused(lifecycle, grid_worker):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    with pytest.raises(NotAllowed):
        services.ticket_accept(
            actor=grid_worker, ticket_id=ticket.pk, handler=lifecycle["handler"]
        )


def test_accept_with_a_handler_from_elsewhere_is_refused(lifecycle):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    stranger = handler_for(lifecycle["tree"], 3)  # a grid of the other community
    with pytest.raises(DomainError) as exc:
        services.ticket_accept(
            actor=lifecycle["community_staff"], ticket_id=ticket.pk, handler=stranger
        )
    assert exc.value.code == "invalid_handler"
    ticket.refresh_from_db()
    assert ticket.stage == Stage.DISPATCHED


def test_accept_twice_is_wrong_stage(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    with pytest.raises(Conflict):
        services.ticket_accept(
            actor=lifecycle["community_staff"],
            ticket_id=ticket.pk,
            handler=lifecycle["handler"],
        )


def test_department_member_accepts_department_ticket(lifecycle):
    member = UserFactory(role=UserRole.GRID_WORKER, region=lifecycle["tree"]["street"])
    department = DepartmentFactory(name="市场监管")
    department.members.add(member)
    ticket = walk_to(Stage.TRIAGED, **lifecycle)
    services.ticket_dispatch(
        actor=lifecycle["street_staff"],
        ticket_id=ticket.pk,
        handling_department=department,
    )
    with pytest.raises(NotAllowed):
        services.ticket_accept(
            actor=lifecycle["community_staff"], ticket_id=ticket.pk, handler=member
        )
    services.ticket_accept(actor=member, ticket_id=ticket.pk, handler=member)
    ticket.refresh_from_db()
    assert ticket.stage == Stage.ACCEPTED


def test_return_loop_goes_back_to_dispatch(lifecycle):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    with pytest.raises(DomainError):
        services.ticket_return(
            actor=lifecycle["community_staff"], ticket_id=ticket.pk, reason=" "
        )
    services.ticket_return(
        actor=lifecycle["community_staff"], ticket_id=ticket.pk, reason="不属本社区"
    )
    ticket.refresh_from_db()
    assert ticket.stage == Stage.TRIAGED
    assert ticket.handling_region is None
    assert ticket.return_count == 1
    event = ticket.events.last()
    assert (event.action, event.note) == (Action.RETURN, "不属本社区")
    # Dispatched again, it can be accepted.
    services.ticket_dispatch(
        actor=lifecycle["street_staff"],
        ticket_id=ticket.pk,
        handling_region=lifecycle["tree"]["communities"][0],
    )
    services.ticket_accept(
        actor=lifecycle["community_staff"],
        ticket_id=ticket.pk,
        handler=lifecycle["handler"],
    )


def test_return_after_accept_is_wrong_stage(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    with pytest.raises(Conflict):
        services.ticket_return(
            actor=lifecycle["community_staff"], ticket_id=ticket.pk, reason="晚了"
        )


# --- handle or report up (做单, 上报) ------------------------------------------------


def test_handle_by_the_handler(lifecycle):
    ticket = walk_to(Stage.HANDLED, **lifecycle)
    assert ticket.result == "已清理"
    assert ticket.deadline_working_days == 3  # the wait for the verdict


def test_handle_by_someone_else_is_refused(lifecycle, grid_worker):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    with pytest.raises(NotAllowed):
        services.ticket_handle(actor=grid_worker, ticket_id=ticket.pk, result="x")
    with pytest.raises(NotAllowed):
        services.ticket_handle(
            actor=lifecycle["community_staff"], ticket_id=ticket.pk, result="x"
        )


def test_handle_before_accept_is_wrong_stage(lifecycle):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    with pytest.raises((Conflict, NotAllowed)):
        services.ticket_handle(
            actor=lifecycle["handler"], ticket_id=ticket.pk, result="x"
        )


def test_handle_needs_a_result(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    with pytest.raises(DomainError):
        services.ticket_handle(
            actor=lifecycle["handler"], ticket_id=ticket.pk, result=""
        )


def test_report_up_goes_one_level_up_and_waits_to_be_accepted(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    services.ticket_report_up(
        actor=lifecycle["handler"], ticket_id=ticket.pk, reason="涉及多个部门"
    )
    ticket.refresh_from_db()
    assert ticket.stage == Stage.DISPATCHED
    assert ticket.handling_region == lifecycle["tree"]["street"]
    assert ticket.handler is None
    assert ticket.report_up_count == 1
    # The community can no longer accept; the street can.
    with pytest.raises(NotAllowed):
        services.ticket_accept(
            actor=lifecycle["community_staff"],
            ticket_id=ticket.pk,
            handler=lifecycle["handler"],
        )
    services.ticket_accept(
        actor=lifecycle["street_staff"],
        ticket_id=ticket.pk,
        handler=lifecycle["street_staff"],
    )


def test_street_of_and_report_up_from_a_shared_department(lifecycle):
    from tickets.services.common import street_of

    tree = lifecycle["tree"]
    assert street_of(tree["grids"][3]) == tree["street"]
    assert street_of(tree["communities"][0]) == tree["street"]
    assert street_of(tree["street"]) == tree["street"]
    assert street_of(tree["district"]) == tree["district"]
    assert street_of(None) is None
    member = UserFactory(role=UserRole.GRID_WORKER, region=tree["street"])
    shared = DepartmentFactory(name="共享民政", region=None)
    shared.members.add(member)
    ticket = walk_to(Stage.TRIAGED, **lifecycle)
    services.ticket_dispatch(
        actor=lifecycle["street_staff"], ticket_id=ticket.pk, handling_department=shared
    )
    services.ticket_accept(actor=member, ticket_id=ticket.pk, handler=member)
    services.ticket_report_up(actor=member, ticket_id=ticket.pk, reason="跨部门")
    ticket.refresh_from_db()
    assert ticket.handling_region == tree["street"]
    assert ticket.holder_region == tree["street"]


def test_report_up_by_someone_else_is_refused(lifecycle):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    with pytest.raises(NotAllowed):
        services.ticket_report_up(
            actor=lifecycle["community_staff"], ticket_id=ticket.pk, reason="x"
        )


def test_every_action_lists_only_what_the_user_may_do(lifecycle):
    from tickets.permissions import available_actions

    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    assert available_actions(lifecycle["community_staff"], ticket) == [
        Action.ACCEPT,
        Action.RETURN,
    ]
    assert available_actions(lifecycle["handler"], ticket) == []
    assert available_actions(lifecycle["street_staff"], ticket) == [
        Action.ACCEPT,
        Action.RETURN,
    ]


# --- concurrency ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks need PostgreSQL; SQLite serialises writers",
)
def test_two_people_accept_at_once_exactly_one_wins(lifecycle):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    second_staff = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=lifecycle["tree"]["communities"][0]
    )
    second_handler = handler_for(lifecycle["tree"], 1)
    barrier = threading.Barrier(2)
    results = []

    def accept(actor, handler):
        try:
            barrier.wait(timeout=10)
            services.ticket_accept(actor=actor, ticket_id=ticket.pk, handler=handler)
            results.append("ok")
        except DomainError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=accept, args=(lifecycle["community_staff"], lifecycle["handler"])
        ),
        threading.Thread(target=accept, args=(second_staff, second_handler)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["ok", "wrong_stage"]
    assert ticket.events.filter(action=Action.ACCEPT).count() == 1
