"""The content security policy in headless Chromium: every admin list and add
page (as an administrator), the ticket page with its evaluation link, the phone
pages of a grid worker, the resident's pages and the login and second-factor
pages load with no ``securitypolicyviolation`` event and no console error."""

import pytest
from django.conf import settings

from grids.choices import UserRole
from partyorg.microprojects.views import micro_project_notice_url
from points.links import statement_url
from tests.browser.test_phone_pages import _resident, _ticket_waiting_for_verdict
from tests.grids.factories import UserFactory
from tickets import services as ticket_services
from tickets.phone_field import report_url_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Collect violations from the first script on: the page's own scripts may run
# before the test looks.
COLLECT = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(
    `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
  );
});
"""


@pytest.fixture
def watched(page):
    page.add_init_script(COLLECT)
    errors = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load")
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    return page, errors


def _visit(page, errors, url) -> list[str]:
    response = page.goto(url)
    page.wait_for_load_state("load")
    assert response.status < 500, f"{url}: {response.status}"
    found = [f"{url}: {v}" for v in page.evaluate("window.__violations")]
    found += [f"{url}: console: {e}" for e in errors]
    errors.clear()
    return found


def _log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pass-for-tests")
    page.click("input[type=submit]")
    page.wait_for_load_state("load")


def test_admin_pages_load_without_csp_violations(
    watched, live_server, tree, street_staff, community_staff
):
    page, errors = watched
    ticket = _ticket_waiting_for_verdict(tree, street_staff, community_staff)
    admin = UserFactory(role="", region=None, is_superuser=True, username="root")
    _log_in(page, live_server, admin)
    found = _visit(page, errors, f"{live_server.url}/admin/")
    links = page.eval_on_selector_all(
        "#content-main a[href^='/admin/']",
        "els => els.map(e => e.getAttribute('href'))",
    )
    assert len(links) > 20
    for link in dict.fromkeys(links):
        found += _visit(page, errors, live_server.url + link)
    found += _visit(
        page, errors, f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/"
    )
    assert not found, "\n".join(found)


def test_street_staff_ticket_page_with_the_evaluation_link(
    watched, live_server, tree, street_staff, community_staff
):
    page, errors = watched
    ticket = _ticket_waiting_for_verdict(tree, street_staff, community_staff)
    _log_in(page, live_server, street_staff)
    url = f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/"
    found = _visit(page, errors, url)
    assert page.locator(".evaluation-link svg").count() == 1
    # The copy button's script (a static file) runs under the policy.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("[data-copy-from]")
    page.wait_for_selector(".evaluation-link-copy-state:not(:empty)")
    found += [f"{url}: {v}" for v in page.evaluate("window.__violations")]
    found += _visit(page, errors, f"{live_server.url}/accounts/otp/setup/")
    assert not found, "\n".join(found)


def test_phone_and_public_pages_load_without_csp_violations(
    watched, live_server, tree, street_staff, community_staff
):
    page, errors = watched
    ticket = _ticket_waiting_for_verdict(tree, street_staff, community_staff)
    resident = _resident(tree["grids"][0])
    base = live_server.url
    found = _visit(page, errors, f"{base}/accounts/login/")
    found += _visit(page, errors, base + ticket_services.evaluation_url(ticket=ticket))
    found += _visit(page, errors, base + statement_url(resident))
    # 码上办: a grid's report form and a report's tracking link (no account).
    found += _visit(page, errors, base + report_url_for(tree["grids"][0]))
    found += _visit(page, errors, base + ticket_services.tracking_url(ticket=ticket))
    found += _visit(
        page, errors, f"{base}/points/rankings/{tree['communities'][0].pk}/"
    )
    # 民生微实事公开: the community's public notice (signed link, no account).
    found += _visit(
        page, errors, base + micro_project_notice_url(tree["communities"][0])
    )
    worker = UserFactory(
        role=UserRole.GRID_WORKER, region=tree["grids"][0], is_staff=False
    )
    _log_in(page, live_server, worker)
    found += _visit(page, errors, f"{base}/")
    for link in dict.fromkeys(
        page.eval_on_selector_all(
            "main a[href^='/']", "els => els.map(e => e.getAttribute('href'))"
        )
    ):
        found += _visit(page, errors, base + link)
    assert not found, "\n".join(found)
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"] == ["'self'"]
