"""The read-replica router (governance.db_router), against the test settings'
second alias ``replica``, a mirror of the test database: a page's list read
outside a transaction goes to the replica, writes and reads inside a
transaction (locks included) to the primary, and a browser that just wrote
reads the primary for a few seconds."""

import pytest
from django.db import connections, router, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from governance.db_router import (
    PIN_COOKIE,
    ReplicaReadsMiddleware,
    ReplicaRouter,
    replica_reads,
)
from grids import selectors
from grids.models import Household
from tests.grids.factories import HouseholdFactory


def test_reads_go_to_the_primary_outside_replica_reads(db, supervisor):
    assert selectors.household_list(actor=supervisor).db == "default"


# Outside the transaction a plain ``db`` test runs in (which keeps every read of
# such a test on the primary): these open their own.
BOTH = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@BOTH
def test_a_list_read_in_replica_reads_goes_to_the_replica(supervisor):
    with replica_reads():
        assert selectors.household_list(actor=supervisor).db == "replica"
        assert router.db_for_write(Household) == "default"


@BOTH
def test_reads_inside_a_transaction_and_locks_stay_on_the_primary(supervisor):
    with replica_reads(), transaction.atomic():
        assert selectors.household_list(actor=supervisor).db == "default"
        locked = Household.objects.select_for_update().filter(pk=0)
        assert locked.db == "default"
        assert list(locked) == []


def test_migrations_run_on_the_primary_only():
    assert ReplicaRouter().allow_migrate("default", "grids")
    assert not ReplicaRouter().allow_migrate("replica", "grids")


@BOTH
def test_the_replica_connection_serves_the_list_and_a_write_the_primary(tree):
    household = HouseholdFactory(region=tree["grids"][0])
    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
        replica_reads(),
    ):
        rows = list(Household.objects.filter(pk=household.pk))
        Household.objects.filter(pk=household.pk).update(notes="改")
    assert [h.pk for h in rows] == [household.pk]
    assert len(on_replica) == 1
    assert "SELECT" in on_replica[0]["sql"]
    assert [q["sql"].split()[0] for q in on_primary] == ["UPDATE"]
    assert Household.objects.get(pk=household.pk).notes == "改"


def _routed_alias(settings, method, cookies=None):
    settings.DATABASE_REPLICA_READS = True
    chosen = {}

    def view(request):
        chosen["alias"] = router.db_for_read(Household)
        return HttpResponse("ok")

    request = getattr(RequestFactory(), method)("/admin/grids/household/")
    request.COOKIES.update(cookies or {})
    response = ReplicaReadsMiddleware(view)(request)
    return chosen["alias"], response


def test_middleware_sends_get_reads_to_the_replica(settings):
    alias, response = _routed_alias(settings, "get")
    assert alias == "replica"
    assert PIN_COOKIE not in response.cookies


def test_middleware_keeps_a_post_on_the_primary_and_pins_the_browser(settings):
    alias, response = _routed_alias(settings, "post")
    assert alias == "default"
    pin = response.cookies[PIN_COOKIE]
    assert pin["max-age"] == settings.REPLICA_PIN_SECONDS
    # The next page of that browser reads the primary.
    alias, _response = _routed_alias(settings, "get", {PIN_COOKIE: pin.value})
    assert alias == "default"


def test_middleware_leaves_reads_on_the_primary_when_switched_off(settings):
    alias, _response = _routed_alias(settings, "get")
    settings.DATABASE_REPLICA_READS = False
    request = RequestFactory().get("/")
    seen = {}

    def view(request):
        seen["alias"] = router.db_for_read(Household)
        return HttpResponse("ok")

    ReplicaReadsMiddleware(view)(request)
    assert alias == "replica"
    assert seen["alias"] == "default"
    # Outside any request, e.g. a Celery job or a command: the primary.
    assert router.db_for_read(Household) == "default"
