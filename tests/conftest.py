"""Project-wide fixtures."""

import pytest

from grids.choices import UserRole
from tests.grids.factories import UserFactory, make_tree


@pytest.fixture
def tree(db):
    """district → street → 2 communities → 2 grids each."""
    return make_tree()


@pytest.fixture
def other_tree(db):
    """A second, unrelated district."""
    return make_tree(name="外区")


@pytest.fixture
def street_staff(tree):
    return UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])


@pytest.fixture
def community_staff(tree):
    return UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0])


@pytest.fixture
def grid_worker(tree):
    return UserFactory(
        role=UserRole.GRID_WORKER, region=tree["grids"][0], is_staff=False
    )


@pytest.fixture
def supervisor(tree):
    return UserFactory(role=UserRole.SUPERVISOR, region=tree["district"])


@pytest.fixture
def admin_user(db):
    return UserFactory(role="", region=None, is_superuser=True, username="root")
