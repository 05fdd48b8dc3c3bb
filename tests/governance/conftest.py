"""Fixtures of the governance tests: the ticket lifecycle fixtures, for the
phone home's counts."""

from tests.tickets.conftest import (  # noqa: F401 (fixtures used by name)
    category,
    department,
    handler,
    lifecycle,
)
