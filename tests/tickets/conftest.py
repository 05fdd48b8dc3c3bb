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


# --- Open311 -----------------------------------------------------------------------


@pytest.fixture
def open311_world(tree, street_staff, category):
    """The tree's grids placed on the map (Open311 locates a request by its
    nearest grid) with codes, and a key issued for the street."""
    from grids.models import Region
    from tickets.open311 import services as open311_services

    for index, grid in enumerate(tree["grids"]):
        Region.objects.filter(pk=grid.pk).update(
            latitude=39.90 + index * 0.01,
            longitude=116.40,
            code=f"11010100100{index + 1}001",
        )
        grid.refresh_from_db()
    category.service_code = "street-vending"
    category.save(update_fields=["service_code"])
    client, key = open311_services.open311_client_create(
        actor=street_staff, name="随手拍", region=tree["street"]
    )
    return {"client": client, "key": key, "category": category, "tree": tree}


@pytest.fixture
def open311_post(client, open311_world):
    """POST /open311/v2/requests.<fmt> with a valid body, overridable."""
    from django.core.cache import cache

    cache.clear()  # the self-report's per-address counters

    def post(fmt="json", **overrides):
        data = {
            "api_key": open311_world["key"],
            "service_code": "street-vending",
            "description": "小区北门有人占道摆摊",
            "phone": "13800001111",
            "lat": "39.9001",
            "long": "116.4002",
            "address_string": "北门",
        }
        data.update(overrides)
        data = {k: v for k, v in data.items() if v is not None}
        return client.post(f"/open311/v2/requests.{fmt}", data)

    return post


@pytest.fixture
def platform(tree, admin_user):
    """A 12345 platform serving the street (the helpers' module makes it)."""
    from tests.tickets.hotline_helpers import make_platform

    return make_platform(admin_user, tree["street"])
