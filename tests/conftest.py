"""Project-wide fixtures."""

import os

import pytest

from grids.choices import UserRole
from tests.grids.factories import UserFactory, make_tree


@pytest.fixture(autouse=True)
def _rows_the_migrations_write(request):
    """A ``transaction=True`` test ends with a flush that empties every table,
    rows the migrations wrote included: put back the standard deadline classes
    (tickets refer to them) for the tests that use the database."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    if "transactional_db" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in names:
        request.getfixturevalue("db")
    else:
        return
    from tickets.places import forget_cached_places
    from tickets.services.catalogue import deadline_classes_ensure_standard

    # Region ids come back after a flush: paths cached per process are forgotten.
    forget_cached_places()
    deadline_classes_ensure_standard()


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


# --- CI: no silent skips -------------------------------------------------------
# In CI (.ci/run sets CI_REQUIRE_SERVICES) a test skipped because PostgreSQL,
# Redis, Chromium or nginx is missing is a failure, never a quiet pass.
_SERVICE_WORDS = ("postgres", "redis", "chromium", "nginx")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not os.environ.get("CI_REQUIRE_SERVICES") or not report.skipped:
        return
    reason = str(
        report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
    )
    if any(word in reason.lower() for word in _SERVICE_WORDS):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where it must run: {reason}"


# --- Headless Chromium -----------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make around it are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    """A phone-sized page, as grid workers use."""
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    yield page
    context.close()


# --- Distribution over the xdist workers -----------------------------------------
# `make test` runs `pytest -n 2` (``--dist load``): the workers take the tests in
# collection order, in slices. pytest-django orders them by kind (tests in a
# rolled-back transaction first, then the ``transaction=True`` ones, whose flush
# empties the tables the migrations filled); within each kind the modules whose
# tests take longest (real processes, Chromium, fuzzing, a seeded demo) are moved
# to the front, whole, so that the run does not end with one worker busy on a
# long test while the other idles.
SLOW_MARKERS = ("browser", "celery_worker", "fuzz")
SLOW_MODULES = (
    "tests/governance/test_faults.py",
    "tests/governance/test_backups.py",
    "tests/governance/test_seed_demo.py",
    "tests/tickets/test_demo.py",
    "tests/security/test_form_fuzz.py",
)


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    names = getattr(item, "fixturenames", ())
    return (
        "transactional_db" in names
        or "live_server" in names
        or bool(marker and marker.kwargs.get("transaction"))
    )


def pytest_collection_modifyitems(config, items):
    slow = set()
    for item in items:
        module = item.nodeid.split("::")[0]
        if module in SLOW_MODULES or any(
            item.get_closest_marker(name) for name in SLOW_MARKERS
        ):
            slow.add(module)
    # A stable sort: pytest-django's order stays within each kind and module.
    items.sort(
        key=lambda item: (
            _transactional(item),
            item.nodeid.split("::")[0] not in slow,
        )
    )
