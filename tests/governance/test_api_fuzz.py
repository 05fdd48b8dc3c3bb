"""Property-based fuzzing of the whole API against its own OpenAPI document
(schemathesis): every operation, with valid and invalid inputs, sent over HTTP
to a live server on the test database with a real API token. None may answer
with a 5xx. Bounded: a fixed number of examples per operation, no deadline
per example (the machine is shared)."""

import json
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from grids.choices import UserRole
from tests.api_client import token_for
from tests.grids.factories import (
    GridAssignmentFactory,
    HouseholdFactory,
    PatrolFactory,
    ResidentFactory,
    UserFactory,
    make_tree,
)
from tests.tickets.factories import CategoryFactory, new_ticket

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def fuzz_world(live_server):
    """A street with rows of every resource, a street staff account's token."""
    from django.core.cache import cache

    cache.clear()
    tree = make_tree()
    staff = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    for grid in tree["grids"][:2]:
        GridAssignmentFactory(grid=grid)
        PatrolFactory(region=grid)
        ResidentFactory(household=HouseholdFactory(region=grid))
    CategoryFactory(name="占道经营")
    for _ in range(3):
        new_ticket(staff, tree)
    return {"key": token_for(staff), "url": live_server.url}


def _operations(url):
    with urllib.request.urlopen(url + "/api/schema/?format=json") as response:
        document = json.load(response)
    schema = schemathesis.openapi.from_dict(document)
    return [result.ok() for result in schema.get_all_operations()]


def test_no_operation_answers_with_a_server_error(fuzz_world):
    """Each operation with valid inputs, then with invalid ones."""
    failures = []
    headers = {"Authorization": f"Token {fuzz_world['key']}"}
    operations = _operations(fuzz_world["url"])
    assert len(operations) >= 25
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def fuzz(case):
                case.call_and_validate(
                    base_url=fuzz_world["url"],
                    headers=headers,
                    checks=[not_a_server_error],
                    timeout=30,
                )

            try:
                fuzz()
            except (Exception, ExceptionGroup) as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}"[:2000])
    assert not failures, "\n\n".join(failures)
