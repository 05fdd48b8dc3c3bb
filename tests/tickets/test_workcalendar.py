import datetime as dt

import pytest

from grids.errors import DomainError, NotAllowed
from tests.tickets.factories import aware, new_ticket
from tickets import services
from tickets.choices import Action
from tickets.models import WorkCalendarDay, WorkCalendarYear
from tickets.workcalendar import WorkCalendar, add_working_days, working_hours_before

pytestmark = pytest.mark.django_db


def test_migration_filled_the_known_years():
    assert WorkCalendarYear.objects.filter(year=2026, confirmed=True).exists()
    assert not WorkCalendarYear.objects.filter(year=2027).exists()
    national_day = WorkCalendarDay.objects.get(date=dt.date(2026, 10, 1))
    assert not national_day.is_workday
    assert WorkCalendarDay.objects.get(date=dt.date(2026, 10, 10)).is_workday


def test_one_working_day_over_the_national_day_week():
    deadline = add_working_days(aware(2026, 9, 30, 10, 0), 1)
    assert deadline.at == aware(2026, 10, 8, 17, 30)
    assert deadline.provisional is False


def test_make_up_saturday_counts_as_a_working_day():
    # 2026-10-10 is a Saturday worked in exchange for the National Day week.
    deadline = add_working_days(aware(2026, 10, 9, 16, 0), 1)
    assert deadline.at == aware(2026, 10, 10, 17, 30)
    five = add_working_days(aware(2026, 9, 28, 9, 0), 5)
    # 9-29, 9-30, 10-8, 10-9, 10-10 (make-up Saturday)
    assert five.at == aware(2026, 10, 10, 17, 30)


def test_ordinary_weekend_is_skipped():
    assert add_working_days(aware(2026, 11, 20, 11, 0), 1).at == aware(
        2026, 11, 23, 17, 30
    )


def test_december_ticket_due_in_january_2027_is_provisional():
    # 12-31 (1), 2027-01-01 is New Year's Day (holidays.China), 01-04..08 (6), 01-11.
    deadline = add_working_days(aware(2026, 12, 30, 10, 0), 7)
    assert deadline.at == aware(2027, 1, 11, 17, 30)
    assert deadline.provisional is True


def test_staff_confirming_2027_recomputes_provisional_deadlines(tree, street_staff):
    ticket = new_ticket(street_staff, tree, received_at=aware(2026, 12, 31, 10, 0))
    # 1 working day after 12-31: 2027-01-01 is a holiday, so 01-04 — provisional.
    assert ticket.stage_deadline == aware(2027, 1, 4, 17, 30)
    assert ticket.deadline_provisional
    services.work_calendar_prefill_year(year=2027, actor=street_staff)
    assert not WorkCalendarYear.objects.get(year=2027).confirmed
    # Staff learn that 2027-01-02 (a Saturday) is a make-up workday.
    services.work_calendar_set_day(
        actor=street_staff, date=dt.date(2027, 1, 2), is_workday=True, note="调休上班"
    )
    ticket.refresh_from_db()
    assert ticket.deadline_provisional  # nothing changes until the year is confirmed
    recomputed = services.work_calendar_confirm_year(actor=street_staff, year=2027)
    assert recomputed == 1
    ticket.refresh_from_db()
    assert ticket.stage_deadline == aware(2027, 1, 2, 17, 30)
    assert not ticket.deadline_provisional
    assert ticket.events.filter(action=Action.RECALCULATE).count() == 1
    # Confirmed: the same computation is no longer provisional.
    assert not add_working_days(aware(2026, 12, 30, 10, 0), 7).provisional


def test_fill_year_unknown_to_chinese_calendar_is_refused_clearly():
    with pytest.raises(DomainError) as exc:
        services.work_calendar_fill_year(year=2027)
    assert exc.value.code == "calendar_unknown_year"


def test_fill_year_keeps_staff_edits(street_staff):
    services.work_calendar_set_day(
        actor=street_staff, date=dt.date(2025, 3, 8), is_workday=True, note="加班"
    )
    services.work_calendar_fill_year(year=2025, actor=street_staff)
    assert WorkCalendarDay.objects.get(date=dt.date(2025, 3, 8)).is_workday


def test_grid_worker_cannot_edit_the_calendar(grid_worker):
    with pytest.raises(NotAllowed):
        services.work_calendar_set_day(
            actor=grid_worker, date=dt.date(2027, 1, 2), is_workday=True
        )


def test_working_hours_before_a_deadline():
    deadline = aware(2026, 10, 8, 17, 30)
    assert working_hours_before(deadline, 4) == aware(2026, 10, 8, 13, 30)
    # 8.5 working hours a day: 10 hours reach back over the holiday week.
    assert working_hours_before(deadline, 10) == aware(2026, 9, 30, 16, 0)


def test_calendar_reads_one_year_per_query(django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        calendar = WorkCalendar()
        add_working_days(aware(2026, 12, 30, 10, 0), 30, calendar=calendar)


def test_fill_command():
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    call_command("fill_work_calendar", "2026", stdout=out)
    assert "2026: 365 days" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("fill_work_calendar", "2027", stdout=out)
    call_command("fill_work_calendar", "2027", "--prefill", stdout=out)
    assert not WorkCalendarYear.objects.get(year=2027).confirmed
    assert WorkCalendarDay.objects.filter(date__year=2027).count() == 365


def test_a_calendar_unchanged_is_read_once_per_process(django_assert_num_queries):
    WorkCalendar().is_workday(dt.date(2026, 3, 2))
    with django_assert_num_queries(1):  # the version only
        calendar = WorkCalendar()
        assert calendar.is_workday(dt.date(2026, 3, 2))
        assert not calendar.is_workday(dt.date(2026, 10, 1))


def test_a_change_to_the_calendar_is_seen_by_the_next_computation():
    monday = dt.date(2026, 3, 2)
    assert WorkCalendar().is_workday(monday)
    # Written without the services: the table's trigger gives a new version.
    WorkCalendarDay.objects.filter(date=monday).update(is_workday=False)
    assert not WorkCalendar().is_workday(monday)
    WorkCalendarYear.objects.filter(year=2026).update(confirmed=False)
    assert WorkCalendar().day(monday) == (False, True)


def test_a_change_rolled_back_is_not_kept():
    from django.db import transaction

    monday = dt.date(2026, 3, 2)
    with transaction.atomic():
        WorkCalendarDay.objects.filter(date=monday).update(is_workday=False)
        assert not WorkCalendar().is_workday(monday)
        transaction.set_rollback(True)
    assert WorkCalendar().is_workday(monday)
