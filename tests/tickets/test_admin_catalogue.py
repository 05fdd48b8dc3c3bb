"""The catalogue and calendar admin pages: they save through the catalogue
services (audit entries, Conflicts shown as messages), show limits with their
unit and the calendar in Chinese."""

import datetime as dt

import pytest
from django.urls import reverse

from grids.audit import audit_history
from grids.choices import AuditAction, UserRole
from tests.grids.factories import UserFactory
from tests.tickets.factories import DepartmentFactory
from tickets import services
from tickets.choices import DeadlineClass, DeadlineUnit
from tickets.models import Category, Department, HandlingLimit

pytestmark = pytest.mark.django_db


@pytest.fixture
def zh(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.cookies["django_language"] = "zh-hans"
    return client


def test_department_add_page_saves_through_the_service(client, lifecycle):
    client.force_login(lifecycle["street_staff"])
    street = lifecycle["tree"]["street"]
    response = client.post(
        reverse("admin:tickets_department_add"),
        {"name": "街道城管", "region": street.pk, "is_active": "on"},
    )
    assert response.status_code == 302
    department = Department.objects.get(name="街道城管")
    assert [e.action for e in audit_history(department)] == [AuditAction.CREATE]


def test_department_deactivated_from_its_page_is_one_deactivation(client, lifecycle):
    street = lifecycle["tree"]["street"]
    department = DepartmentFactory(name="街道城管", region=street)
    client.force_login(lifecycle["street_staff"])
    response = client.post(
        reverse("admin:tickets_department_change", args=[department.pk]),
        {"name": "街道城管", "region": street.pk, "members": []},
    )
    assert response.status_code == 302
    department.refresh_from_db()
    assert not department.is_active
    assert [e.action for e in audit_history(department)] == [AuditAction.DEACTIVATE]


def test_duplicate_department_name_in_the_admin_is_a_message(client, lifecycle):
    street = lifecycle["tree"]["street"]
    DepartmentFactory(name="街道城管", region=street)
    client.force_login(lifecycle["street_staff"])
    response = client.post(
        reverse("admin:tickets_department_add"),
        {"name": "街道城管", "region": street.pk, "is_active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    assert Department.objects.filter(name="街道城管").count() == 1


def test_category_list_shows_the_limit_with_its_unit(zh, lifecycle):
    zh.force_login(lifecycle["street_staff"])
    response = zh.get(reverse("admin:tickets_category_changelist"))
    text = response.content.decode()
    assert "7 日（自然日）" in text
    assert "服务编码" in text


def test_category_add_page_needs_a_service_code_and_writes_an_entry(client, lifecycle):
    client.force_login(lifecycle["street_staff"])
    url = reverse("admin:tickets_category_add")
    form = client.get(url).context["adminform"].form
    assert not form["service_code"].value()  # no placeholder for a new one
    data = {"name": "环境卫生", "deadline_class": DeadlineClass.EASY, "is_active": "on"}
    response = client.post(url, {**data, "service_code": ""})
    assert response.status_code == 200  # the form shows the error
    assert not Category.objects.filter(name="环境卫生").exists()
    response = client.post(url, {**data, "service_code": "sanitation"})
    assert response.status_code == 302
    category = Category.objects.get(service_code="sanitation")
    assert category.deadline_class_id == DeadlineClass.EASY
    assert [e.action for e in audit_history(category)] == [AuditAction.CREATE]
    response = client.post(
        reverse("admin:tickets_category_change", args=[category.pk]),
        {**data, "service_code": "sanitation", "deadline_class": DeadlineClass.HARD},
    )
    assert response.status_code == 302
    assert audit_history(category).first().changes == {
        "deadline_class": ["easy", "hard"]
    }


def test_deadline_class_admin_scoped_and_shared_ones_read_only(
    zh, lifecycle, other_tree
):
    tree = lifecycle["tree"]
    mine = services.deadline_class_create(
        actor=lifecycle["street_staff"],
        code="s1-3d",
        name="紧急诉求",
        days=3,
        unit=DeadlineUnit.CALENDAR_DAYS,
        region=tree["street"],
    )
    zh.force_login(lifecycle["street_staff"])
    response = zh.get(reverse("admin:tickets_handlinglimit_changelist"))
    text = response.content.decode()
    assert "紧急诉求" in text and "3 日（自然日）" in text and "30 个工作日" in text
    # A shared class: shown, not editable.
    shared_url = reverse("admin:tickets_handlinglimit_change", args=["general"])
    response = zh.get(shared_url)
    assert response.status_code == 200
    assert 'name="days"' not in response.content.decode()
    assert zh.post(shared_url, {"name": "x", "days": 1}).status_code == 403
    # Its own: editable through the service.
    response = zh.post(
        reverse("admin:tickets_handlinglimit_change", args=[mine.pk]),
        {"name": "紧急诉求", "days": 2, "unit": "calendar_days", "is_active": "on"},
        follow=True,  # the success message is read here, not by the next user
    )
    assert response.redirect_chain[-1][1] == 302
    mine.refresh_from_db()
    assert mine.days == 2
    assert audit_history(mine).first().changes == {"days": [3, 2]}
    # Another street does not see it.
    outsider = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    zh.force_login(outsider)
    response = zh.get(reverse("admin:tickets_handlinglimit_changelist"))
    assert "紧急诉求" not in response.content.decode()


def test_deadline_class_add_page(client, lifecycle):
    client.force_login(lifecycle["street_staff"])
    response = client.post(
        reverse("admin:tickets_handlinglimit_add"),
        {
            "code": "s1-10",
            "name": "十日",
            "days": 10,
            "unit": "working_days",
            "region": lifecycle["tree"]["street"].pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert HandlingLimit.objects.get(pk="s1-10").region == lifecycle["tree"]["street"]


def test_work_calendar_in_chinese(zh, lifecycle):
    zh.force_login(lifecycle["street_staff"])
    response = zh.get(
        reverse("admin:tickets_workcalendarday_changelist")
        + "?date__year=2026&date__month=10"
    )
    text = response.content.decode()
    assert "星期四" in text  # 2026-10-01
    assert "国庆节" in text and "调休上班" in text
    assert "National Day" not in text and "Thu" not in text
    assert "国务院放假安排" in text
    assert "chinese-calendar 数据" not in text
    response = zh.get(reverse("admin:tickets_workcalendaryear_changelist"))
    assert "chinese-calendar 数据" not in response.content.decode()


def test_filled_and_guessed_years_name_holidays_in_chinese(street_staff):
    from tickets.models import WorkCalendarDay

    services.work_calendar_fill_year(year=2025, actor=street_staff)
    assert WorkCalendarDay.objects.get(date=dt.date(2025, 10, 1)).note == "国庆节"
    services.work_calendar_prefill_year(year=2027, actor=street_staff)
    assert WorkCalendarDay.objects.get(date=dt.date(2027, 10, 1)).note == "国庆节"
