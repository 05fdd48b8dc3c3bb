"""A working-calendar year outside 2000–2100 (0, 10000…) is a clear refusal in
the services and a form error in the admin, never a 500 (issue 9, finding 7)."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from grids.errors import DomainError
from tickets import services
from tickets.models import WorkCalendarDay, WorkCalendarYear

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("year", [0, 1, 1999, 2101, 10000, 32767])
def test_prefill_refuses_a_year_out_of_range(street_staff, year):
    with pytest.raises(DomainError) as refused:
        services.work_calendar_prefill_year(year=year, actor=street_staff)
    assert refused.value.code == "calendar_year_out_of_range"
    assert not WorkCalendarYear.objects.filter(year=year).exists()


@pytest.mark.parametrize(
    "call",
    [
        lambda actor: services.work_calendar_fill_year(year=10000, actor=actor),
        lambda actor: services.work_calendar_confirm_year(year=0, actor=actor),
        lambda actor: services.work_calendar_set_day(
            actor=actor, date=dt.date(1, 1, 1), is_workday=True
        ),
    ],
)
def test_every_calendar_service_refuses_a_year_out_of_range(street_staff, call):
    with pytest.raises(DomainError) as refused:
        call(street_staff)
    assert refused.value.code == "calendar_year_out_of_range"


def test_a_year_in_range_is_prefilled(street_staff):
    assert services.work_calendar_prefill_year(year=2100, actor=street_staff) == 365
    assert WorkCalendarYear.objects.filter(year=2100, confirmed=False).exists()


def test_the_command_reports_a_year_out_of_range():
    with pytest.raises(CommandError, match="2000"):
        call_command("fill_work_calendar", "10000")


@pytest.mark.parametrize("year", ["0", "10000", "-1", "abc", "100000000000000000000"])
def test_the_admin_add_form_refuses_a_year_out_of_range(client, street_staff, year):
    client.force_login(street_staff)
    years = WorkCalendarYear.objects.count()
    response = client.post(
        reverse("admin:tickets_workcalendaryear_add"), {"year": year}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["year"]
    assert WorkCalendarYear.objects.count() == years


def test_the_admin_add_form_takes_a_year_in_range(client, street_staff):
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:tickets_workcalendaryear_add"), {"year": "2031"}
    )
    assert response.status_code == 302
    assert WorkCalendarYear.objects.filter(year=2031).exists()


def test_the_admin_day_form_refuses_a_date_out_of_range(client, street_staff):
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:tickets_workcalendarday_add"),
        {"date": "0001-01-01", "is_workday": "on", "note": ""},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["date"]
    assert not WorkCalendarDay.objects.filter(date=dt.date(1, 1, 1)).exists()
