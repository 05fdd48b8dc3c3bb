"""Deadlines in the unit the seed writes (seed 004: "5日", "7日", "30个工作日"):
日 counts calendar days and a last day off moves to the next working day; 工作日
counts working days with 调休. Deadline classes are rows; a street keeps its own."""

import datetime as dt

import pytest
import time_machine
from django.utils import translation

from grids.choices import UserRole
from grids.errors import DomainError, OutOfScope
from tests.grids.factories import UserFactory
from tests.tickets.factories import aware, walk_to
from tickets import services
from tickets.choices import DeadlineClass, DeadlineUnit, Source, Stage
from tickets.models import HandlingLimit
from tickets.services.common import DayCount, handling_days, set_deadline
from tickets.workcalendar import add_calendar_days, add_days, add_working_days

pytestmark = pytest.mark.django_db

CALENDAR, WORKING = DeadlineUnit.CALENDAR_DAYS, DeadlineUnit.WORKING_DAYS


# --- the arithmetic ------------------------------------------------------------


def test_migration_created_the_three_standard_classes():
    rows = {c.code: (c.days, c.unit, c.region_id) for c in HandlingLimit.objects.all()}
    assert rows == {
        DeadlineClass.EASY: (5, CALENDAR, None),
        DeadlineClass.GENERAL: (7, CALENDAR, None),
        DeadlineClass.HARD: (30, WORKING, None),
    }


def test_seven_days_across_the_national_day_week():
    # 9-30 + 7 days = 10-07, still the holiday (10-01..07): the next working day.
    deadline = add_calendar_days(aware(2026, 9, 30, 10, 0), 7)
    assert deadline.at == aware(2026, 10, 8, 17, 30)
    assert deadline.provisional is False
    # In working days the same 7 would run to 10-15 (10-10 is a make-up Saturday).
    assert add_working_days(aware(2026, 9, 30, 10, 0), 7).at == aware(
        2026, 10, 15, 17, 30
    )


def test_seven_days_ending_on_the_make_up_saturday_end_that_day():
    # 10-03 + 7 = 10-10, a Saturday worked in exchange for the holiday.
    assert add_calendar_days(aware(2026, 10, 3, 9, 0), 7).at == aware(
        2026, 10, 10, 17, 30
    )


def test_five_days_ending_on_a_weekend_move_to_monday():
    # Monday 11-16 + 5 = Saturday 11-21 → Monday 11-23.
    assert add_calendar_days(aware(2026, 11, 16, 15, 0), 5).at == aware(
        2026, 11, 23, 17, 30
    )
    # Thursday 11-12 + 5 = Tuesday 11-17: a working day, it stays.
    assert add_calendar_days(aware(2026, 11, 12, 15, 0), 5).at == aware(
        2026, 11, 17, 17, 30
    )


def test_thirty_working_days_are_counted_as_before():
    start = aware(2026, 9, 28, 9, 0)
    assert add_days(start, 30, WORKING) == add_working_days(start, 30)


def test_calendar_days_into_an_unconfirmed_year_are_provisional():
    # 12-28 + 7 = 2027-01-04: a guessed day.
    assert add_calendar_days(aware(2026, 12, 28, 10, 0), 7).provisional
    # 12-20 + 7 = Sunday 12-27 → Monday 12-28: inside the confirmed 2026.
    deadline = add_calendar_days(aware(2026, 12, 20, 10, 0), 7)
    assert deadline.at == aware(2026, 12, 28, 17, 30)
    assert not deadline.provisional


def test_unknown_unit_is_refused():
    with pytest.raises(ValueError):
        add_days(aware(2026, 11, 16, 9, 0), 3, "weeks")


def test_a_plain_number_of_days_counts_working_days(lifecycle):
    ticket = walk_to(Stage.RECEIVED, **lifecycle)
    set_deadline(ticket, start=aware(2026, 9, 30, 10, 0), working_days=1)
    assert ticket.stage_deadline == aware(2026, 10, 8, 17, 30)
    assert ticket.deadline_unit == WORKING
    set_deadline(
        ticket, start=aware(2026, 11, 16, 15, 0), working_days=DayCount(5, CALENDAR)
    )
    assert ticket.stage_deadline == aware(2026, 11, 23, 17, 30)
    assert (ticket.deadline_working_days, ticket.deadline_unit) == (5, CALENDAR)


# --- the services ----------------------------------------------------------------


def test_accept_counts_the_general_class_in_calendar_days(lifecycle):
    with time_machine.travel(aware(2026, 9, 30, 10, 0), tick=False):
        ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    assert ticket.deadline_class_id == DeadlineClass.GENERAL
    assert (ticket.deadline_working_days, ticket.deadline_unit) == (7, CALENDAR)
    assert ticket.stage_deadline == aware(2026, 10, 8, 17, 30)


def test_triage_and_accept_limits_stay_in_working_days(lifecycle):
    with time_machine.travel(aware(2026, 9, 30, 10, 0), tick=False):
        received = walk_to(Stage.RECEIVED, **lifecycle)
        dispatched = walk_to(Stage.DISPATCHED, **lifecycle)
    for ticket in (received, dispatched):
        assert (ticket.deadline_working_days, ticket.deadline_unit) == (1, WORKING)
        assert ticket.stage_deadline == aware(2026, 10, 8, 17, 30)


def test_hard_class_keeps_thirty_working_days(lifecycle):
    lifecycle["category"].deadline_class = DeadlineClass.HARD
    lifecycle["category"].save()
    with time_machine.travel(aware(2026, 9, 28, 9, 0), tick=False):
        ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    assert ticket.deadline_unit == WORKING
    assert ticket.stage_deadline == add_working_days(aware(2026, 9, 28, 9, 0), 30).at


def test_hotline_ticket_takes_the_general_class_even_when_easy(lifecycle):
    lifecycle["category"].deadline_class = DeadlineClass.EASY
    lifecycle["category"].save()
    with time_machine.travel(aware(2026, 11, 16, 15, 0), tick=False):
        patrol = walk_to(Stage.ACCEPTED, **lifecycle)
        hotline = walk_to(
            Stage.ACCEPTED, source=Source.HOTLINE, hotline_number="H-7", **lifecycle
        )
    assert patrol.stage_deadline == aware(2026, 11, 23, 17, 30)  # 5 日, Sat → Mon
    assert handling_days(hotline) == 7 and handling_days(hotline).unit == CALENDAR
    assert hotline.stage_deadline == aware(2026, 11, 23, 17, 30)  # 11-23, Monday


def test_deadlines_already_set_stay_when_a_class_changes(lifecycle, admin_user):
    ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    before = ticket.stage_deadline
    services.deadline_class_update(
        actor=admin_user, code=DeadlineClass.GENERAL, days=10
    )
    ticket.refresh_from_db()
    assert ticket.stage_deadline == before
    later = walk_to(Stage.ACCEPTED, **lifecycle)
    assert later.deadline_working_days == 10


def test_confirming_a_year_recomputes_a_calendar_day_deadline_in_its_unit(
    lifecycle, street_staff
):
    with time_machine.travel(aware(2026, 12, 28, 10, 0), tick=False):
        ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    assert ticket.stage_deadline == aware(2027, 1, 4, 17, 30)
    assert ticket.deadline_provisional
    services.work_calendar_prefill_year(year=2027, actor=street_staff)
    services.work_calendar_set_day(
        actor=street_staff, date=dt.date(2027, 1, 4), is_workday=False, note="放假"
    )
    services.work_calendar_confirm_year(actor=street_staff, year=2027)
    ticket.refresh_from_db()
    # Still 7 calendar days; the last day is now off, so the next working day.
    assert ticket.stage_deadline == aware(2027, 1, 5, 17, 30)
    assert not ticket.deadline_provisional


# --- the unit shown ----------------------------------------------------------------


def test_a_limit_is_shown_with_its_unit():
    general = HandlingLimit.objects.get(pk=DeadlineClass.GENERAL)
    hard = HandlingLimit.objects.get(pk=DeadlineClass.HARD)
    with translation.override("zh-hans"):
        assert general.limit_label == "7 日（自然日）"
        assert hard.limit_label == "30 个工作日"
        assert str(hard) == "疑难复杂 30 个工作日"


# --- a street's own classes ----------------------------------------------------------


@pytest.fixture
def street_class(tree, street_staff):
    return services.deadline_class_create(
        actor=street_staff,
        code="s1-urgent",
        name="紧急诉求",
        days=3,
        unit=CALENDAR,
        region=tree["street"],
    )


def test_a_streets_own_class_serves_its_subtree_only(
    tree, other_tree, street_class, community_staff
):
    assert street_class in HandlingLimit.objects.usable_in(tree["grids"][0])
    assert street_class not in HandlingLimit.objects.usable_in(other_tree["grids"][0])
    other_street_staff = UserFactory(
        role=UserRole.STREET_STAFF, region=other_tree["street"]
    )
    assert street_class in HandlingLimit.objects.visible_to(community_staff)
    assert street_class not in HandlingLimit.objects.visible_to(other_street_staff)
    # The shared ones are visible to both.
    assert HandlingLimit.objects.visible_to(other_street_staff).count() == 3
    assert (
        services.deadline_class_for(code="s1-urgent", region=tree["grids"][0])
        == street_class
    )
    with pytest.raises(DomainError) as caught:
        services.deadline_class_for(code="s1-urgent", region=other_tree["grids"][0])
    assert caught.value.code == "invalid_deadline"


def test_a_ticket_triaged_with_the_streets_class_gets_its_limit(
    lifecycle, street_class
):
    with time_machine.travel(aware(2026, 11, 16, 15, 0), tick=False):
        ticket = walk_to(Stage.TRIAGED, **lifecycle)
        services.ticket_triage(
            actor=lifecycle["street_staff"],
            ticket_id=ticket.pk,
            category=lifecycle["category"],
            region=lifecycle["tree"]["grids"][0],
            responsible_leader=lifecycle["street_staff"],
            deadline_class=street_class.code,
        )
        ticket.refresh_from_db()
        assert handling_days(ticket) == 3
        assert handling_days(ticket).unit == CALENDAR


def test_another_street_cannot_change_or_see_a_streets_class(other_tree, street_class):
    other_street_staff = UserFactory(
        role=UserRole.STREET_STAFF, region=other_tree["street"]
    )
    with pytest.raises(OutOfScope):
        services.deadline_class_update(
            actor=other_street_staff, code=street_class.code, days=1
        )
    assert street_class not in HandlingLimit.objects.kept_by(other_street_staff)


def test_triage_refuses_another_streets_class(lifecycle, other_tree, admin_user):
    """A class kept by another street cannot be given to a ticket placed here."""
    foreign = services.deadline_class_create(
        actor=admin_user,
        code="s2-urgent",
        name="外街道紧急",
        days=2,
        unit=CALENDAR,
        region=other_tree["street"],
    )
    ticket = walk_to(Stage.TRIAGED, **lifecycle)
    with pytest.raises(DomainError) as caught:
        services.ticket_triage(
            actor=lifecycle["street_staff"],
            ticket_id=ticket.pk,
            category=lifecycle["category"],
            region=lifecycle["tree"]["grids"][0],
            responsible_leader=lifecycle["street_staff"],
            deadline_class=foreign.code,
        )
    assert caught.value.code == "invalid_deadline"
    ticket.refresh_from_db()
    assert ticket.deadline_class_id != foreign.code


def test_triage_form_offers_the_classes_the_area_may_use(
    lifecycle, other_tree, admin_user, street_class
):
    from tickets.forms import TriageForm

    services.deadline_class_create(
        actor=admin_user,
        code="s2-urgent",
        name="外街道紧急",
        days=2,
        unit=CALENDAR,
        region=other_tree["street"],
    )
    form = TriageForm(user=lifecycle["street_staff"])
    offered = {code for code, _label in form.fields["deadline_class"].choices}
    assert {"", "easy", "general", "hard", "s1-urgent"} == offered
