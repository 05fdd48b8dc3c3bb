"""周通报 sent every Monday (governance.bulletin_sending): each street's weekly
bulletin link to its staff and the supervisors over it, once per street and
week, whatever the reruns or workers."""

import datetime as dt
import threading

import pytest
from django.db import connection

from governance.bulletin_sending import last_week_monday, weekly_bulletins_send
from governance.models import BulletinSending
from governance.schedules import PERIODIC_TASKS
from governance.tasks import weekly_bulletins_send_task
from grids.choices import UserRole
from grids.models import Notification
from tests.grids.factories import UserFactory

MONDAY = dt.date(2026, 11, 16)  # ISO week 2026-W47
TODAY = dt.date(2026, 11, 23)  # the Monday after it


@pytest.fixture
def people(tree, other_tree):
    return {
        "staff": UserFactory(role=UserRole.STREET_STAFF, region=tree["street"]),
        "inactive": UserFactory(
            role=UserRole.STREET_STAFF, region=tree["street"], is_active=False
        ),
        "supervisor": UserFactory(role=UserRole.SUPERVISOR, region=tree["district"]),
        "street_supervisor": UserFactory(
            role=UserRole.SUPERVISOR, region=tree["street"]
        ),
        "community": UserFactory(
            role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0]
        ),
        "other_staff": UserFactory(
            role=UserRole.STREET_STAFF, region=other_tree["street"]
        ),
        "other_supervisor": UserFactory(
            role=UserRole.SUPERVISOR, region=other_tree["district"]
        ),
    }


def test_last_week_is_the_iso_week_before_today():
    assert last_week_monday(TODAY) == MONDAY
    assert last_week_monday(dt.date(2026, 11, 29)) == MONDAY  # a Sunday
    assert last_week_monday(dt.date(2027, 1, 4)) == dt.date(2026, 12, 28)


def test_each_street_goes_to_its_staff_and_the_supervisors_over_it(
    tree, other_tree, people
):
    assert weekly_bulletins_send(today=TODAY) == 2
    told = {
        (n.recipient_id, n.url) for n in Notification.objects.filter(channel="in_app")
    }
    ours = f"/reports/weekly/?region={tree['street'].pk}&week=2026-W47"
    theirs = f"/reports/weekly/?region={other_tree['street'].pk}&week=2026-W47"
    assert told == {
        (people["staff"].pk, ours),
        (people["supervisor"].pk, ours),
        (people["street_supervisor"].pk, ours),
        (people["other_staff"].pk, theirs),
        (people["other_supervisor"].pk, theirs),
    }
    message = Notification.objects.get(recipient=people["staff"])
    assert "2026-W47" in message.title and tree["street"].name in message.title
    assert (
        f"/reports/weekly.xlsx?region={tree['street'].pk}&week=2026-W47" in message.body
    )
    sending = BulletinSending.objects.get(street=tree["street"])
    assert sending.week == MONDAY and sending.recipients == 3


def test_a_rerun_sends_nothing_twice(tree, people):
    assert weekly_bulletins_send(today=TODAY) == 2
    notices = Notification.objects.count()
    assert weekly_bulletins_send(today=TODAY) == 0
    assert weekly_bulletins_send(monday=MONDAY + dt.timedelta(days=3)) == 0
    assert Notification.objects.count() == notices
    assert BulletinSending.objects.count() == 2
    # The next week is another bulletin.
    assert weekly_bulletins_send(today=TODAY + dt.timedelta(days=7)) == 2
    assert Notification.objects.count() == 2 * notices


def test_a_street_without_recipients_is_recorded_and_not_sent_again(tree):
    assert weekly_bulletins_send(today=TODAY) == 1
    assert not Notification.objects.exists()
    UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    assert weekly_bulletins_send(today=TODAY) == 0
    assert not Notification.objects.exists()


def test_the_task_sends_through_the_service_and_is_scheduled(tree, people):
    assert weekly_bulletins_send_task(MONDAY.isoformat()) == 2
    assert weekly_bulletins_send_task(MONDAY.isoformat()) == 0
    [spec] = [
        t
        for t in PERIODIC_TASKS
        if t["task"] == "governance.tasks.weekly_bulletins_send"
    ]
    assert spec["crontab"] == {"minute": "0", "hour": "8", "day_of_week": "1"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL")
def test_two_workers_at_once_send_once(tree, other_tree, people):
    outcomes, barrier = [], threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            outcomes.append(weekly_bulletins_send(today=TODAY))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [0, 2]
    assert BulletinSending.objects.count() == 2
    assert Notification.objects.count() == 5
