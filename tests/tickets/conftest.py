import pytest

from grids.choices import UserRole
from tests.grids.factories import UserFactory
from tests.tickets.factories import CategoryFactory, DepartmentFactory, handler_for


@pytest.fixture
def department(db):
    return DepartmentFactory(name="城管")


@pytest.fixture
def category(department):
    parent = CategoryFactory(name="城市管理")
    return CategoryFactory(
        name="占道经营", parent=parent, default_department=department
    )


@pytest.fixture
def handler(tree):
    return handler_for(tree, 0)


@pytest.fixture
def other_community_staff(tree):
    return UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1])


@pytest.fixture
def lifecycle(tree, street_staff, community_staff, handler, category):
    """Keyword arguments for ``walk_to``."""
    return {
        "tree": tree,
        "street_staff": street_staff,
        "community_staff": community_staff,
        "handler": handler,
        "category": category,
    }


@pytest.fixture
def platform(tree, admin_user):
    """A 12345 platform serving the street (the helpers' module makes it)."""
    from tests.tickets.hotline_helpers import make_platform

    return make_platform(admin_user, tree["street"])
