"""Readable ticket numbers: year of receipt (China time) + sequence, unique,
race-free (a sequence a year on PostgreSQL, never a lock held until commit),
backfilled, shown and searchable."""

import datetime as dt
import importlib
import threading
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from tests.tickets.factories import TicketFactory, new_ticket, walk_to
from tickets.choices import Stage
from tickets.models import Ticket, TicketNumberCounter
from tickets.services import numbers
from tickets.services.numbers import next_ticket_number

pytestmark = pytest.mark.django_db

CHINA = ZoneInfo("Asia/Shanghai")
ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the sequences are PostgreSQL's; SQLite keeps the counter rows",
)


def _parts(number: str) -> tuple[int, int]:
    year, sequence = number.split("-")
    assert len(sequence) >= 6, number
    return int(year), int(sequence)


def test_numbers_run_per_year_of_receipt_in_china(tree, street_staff):
    first = new_ticket(street_staff, tree)
    second = new_ticket(street_staff, tree)
    year = first.received_at.astimezone(CHINA).year
    assert _parts(second.number) == (year, _parts(first.number)[1] + 1)
    # 31 Dec 17:00 UTC is already 1 Jan in China.
    new_year = dt.datetime(2027, 12, 31, 17, 0, tzinfo=dt.UTC)
    numbers.set_year_last(2028, 0)
    numbers.set_year_last(2027, 41)
    assert next_ticket_number(new_year) == "2028-000001"
    assert next_ticket_number(new_year) == "2028-000002"
    assert next_ticket_number(new_year - dt.timedelta(hours=2)) == "2027-000042"


@ON_POSTGRESQL
def test_a_years_sequence_outlives_the_transaction_that_made_it():
    """Made on a connection of its own: the intake that needed it may roll
    back, the sequence stays (and so does what the process knows of it)."""
    from django.db import transaction

    year = 2091  # no other test takes a number of this year
    when = dt.datetime(year, 6, 1, tzinfo=dt.UTC)
    with transaction.atomic():
        first = next_ticket_number(when)
        transaction.set_rollback(True)
    assert _parts(next_ticket_number(when)) == (year, _parts(first)[1] + 1)


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)  # the row committed, as it is in use
def test_a_year_is_made_after_its_counter_row():
    """The counter row (numbers taken before the sequences, by the migration's
    backfill or on SQLite) says where the year's sequence starts."""
    year = 2092  # no other test takes a number of this year
    TicketNumberCounter.objects.create(year=year, last=57)
    assert next_ticket_number(dt.datetime(year, 3, 1, tzinfo=dt.UTC)) == "2092-000058"


@ON_POSTGRESQL
def test_the_migration_starts_each_sequence_after_its_counter():
    from types import SimpleNamespace

    migration = importlib.import_module(
        "tickets.migrations.0019_ticket_number_sequences"
    )
    # 2093: no other test takes a number of this year.
    TicketNumberCounter.objects.create(year=2093, last=999_999)
    migration.counters_to_sequences(apps, SimpleNamespace(connection=connection))
    # Made in this test's transaction, not committed: the process is told so
    # (a connection of its own would wait for this transaction to end).
    numbers._years_ready.add((connection.settings_dict["NAME"], 2093))
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [numbers.sequence_name(2093)])
        assert cursor.fetchone()[0] is not None
    assert next_ticket_number(dt.datetime(2093, 3, 1, tzinfo=dt.UTC)) == "2093-1000000"


def test_number_in_str_title_list_and_search(client, lifecycle):
    ticket = walk_to(Stage.RECEIVED, description="楼道里堆满了杂物" * 6, **lifecycle)
    assert str(ticket).startswith(ticket.number)
    client.force_login(lifecycle["street_staff"])
    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert ticket.number in page.context["title"]
    for name in ("tickets_ticket_changelist", "tickets_triagequeueticket_changelist"):
        html = client.get(reverse(f"admin:{name}")).content.decode()
        assert ticket.number in html
        # 诉求内容, cut to about 40 characters.
        assert ticket.description[:30] in html
        assert ticket.description not in html
    response = client.get(
        reverse("admin:tickets_ticket_changelist") + f"?q={ticket.number}"
    )
    assert list(response.context["cl"].result_list) == [ticket]


def test_backfill_numbers_rows_by_year_of_receipt():
    migration = importlib.import_module("tickets.migrations.0007_ticket_number")
    old = TicketFactory(
        number=None,
        received_at=dt.datetime(2025, 12, 31, 20, 0, tzinfo=dt.UTC),  # 2026 in China
        region=_region(),
    )
    older = TicketFactory(
        number=None,
        received_at=dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC),
        region=old.region,
    )
    oldest_2026 = TicketFactory(
        number=None,
        received_at=dt.datetime(2025, 12, 31, 17, 0, tzinfo=dt.UTC),
        region=old.region,
    )
    migration.backfill_numbers(apps, None)
    numbers = dict(Ticket.objects.values_list("pk", "number"))
    assert numbers[older.pk] == "2025-000001"
    assert numbers[oldest_2026.pk] == "2026-000001"
    assert numbers[old.pk] == "2026-000002"
    assert TicketNumberCounter.objects.get(year=2026).last == 2
    assert TicketNumberCounter.objects.get(year=2025).last == 1


def _region():
    from tests.grids.factories import make_tree

    return make_tree(name="回填区")["grids"][0]


@pytest.mark.django_db(transaction=True)
@ON_POSTGRESQL
def test_two_intakes_at_once_get_different_numbers(tree, street_staff):
    barrier = threading.Barrier(2)
    taken, errors = [], []

    def intake():
        try:
            barrier.wait(timeout=10)
            taken.append(new_ticket(street_staff, tree).number)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=intake) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert len(set(taken)) == 2


def test_the_residents_page_shows_the_number(client, lifecycle):
    from tickets import services

    ticket = walk_to(Stage.HANDLED, **lifecycle)
    html = client.get(services.evaluation_url(ticket=ticket)).content.decode()
    assert ticket.number in html
    assert f"#{ticket.pk}" not in html


def test_notices_name_the_number(lifecycle, django_capture_on_commit_callbacks):
    from grids.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        ticket = walk_to(Stage.ACCEPTED, **lifecycle)
    titles = list(Notification.objects.values_list("title", flat=True))
    assert titles and all(ticket.number in title for title in titles)
