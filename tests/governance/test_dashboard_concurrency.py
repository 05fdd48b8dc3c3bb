"""Two refreshes of the dashboard's summary rows at once on PostgreSQL (threads
with their own connections): both finish, and one row per node and month is
left, equal to the raw rows."""

import datetime as dt
import threading

import pytest
from django.db import connection

from governance.dashboard import SUMMARY_LEVELS, indicator_months_refresh
from governance.dashboard_models import IndicatorMonth
from grids.models import Region
from tests.tickets.factories import TicketFactory, aware

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the race is PostgreSQL's"
    ),
]

NOV = dt.date(2026, 11, 1)


def test_two_refreshes_at_once_leave_one_row_per_node(tree, other_tree):
    for grid in tree["grids"]:
        TicketFactory(region=grid, received_at=aware(2026, 11, 3, 9, 0))
    outcomes = []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            outcomes.append(("ok", indicator_months_refresh(month=NOV)))
        except Exception as exc:  # the test reports it, whatever it is
            outcomes.append(("error", repr(exc)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    nodes = Region.objects.filter(level__in=SUMMARY_LEVELS).count()
    assert outcomes == [("ok", nodes), ("ok", nodes)]
    assert IndicatorMonth.objects.filter(month=NOV).count() == nodes
    district = IndicatorMonth.objects.get(region=tree["district"], month=NOV)
    assert district.counts["received"] == len(tree["grids"])
