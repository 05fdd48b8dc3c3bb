"""Two clerks register the same ID-card number at the same moment: the unique
keyed hash lets one through (PostgreSQL, a thread and connection each)."""

import threading

import pytest
from django.db import connection

from grids import services
from grids.errors import DomainError
from grids.models import Resident
from tests.grids.factories import HouseholdFactory, next_id_number

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises writers; the race needs PostgreSQL",
    ),
]


def test_concurrent_registrations_of_one_number_leave_one(tree, community_staff):
    household = HouseholdFactory(region=tree["grids"][0])
    number = next_id_number()
    barrier = threading.Barrier(2)
    outcomes = []

    def register(name):
        try:
            barrier.wait()
            services.resident_create(
                actor=community_staff,
                household=household,
                name=name,
                id_number=number,
            )
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(n,)) for n in ("甲", "乙")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert Resident.objects.with_id_number(number).count() == 1
