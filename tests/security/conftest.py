"""The tickets fixtures (a department, a category, a handler, ``lifecycle``) for
the security tests."""

from tests.tickets.conftest import (  # noqa: F401
    category,
    department,
    handler,
    lifecycle,
    other_community_staff,
)
