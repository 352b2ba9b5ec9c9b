"""Every portal page, as each demo person, in Chromium: axe-core finds no serious or critical
violation, nothing scrolls sideways at 1280 or 390 px, every table's row actions are in sight
at 1280 px, every box that scrolls can be reached by keyboard, and the console stays clean.

The pages come from the URL resolver (portal_pages.py): a new page is checked by construction.
"""

import io

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import Organization, User
from tests.browser.conftest import log_in
from tests.browser.portal_pages import (
    ConsoleWatch,
    answers_get,
    hidden_table_actions,
    overflow,
    portal_pages,
    serious_violations,
    unreachable_scroll_regions,
)

pytestmark = pytest.mark.browser

# Known and being fixed elsewhere, (route, width) -> why. Remove a line when its page is fixed.
KNOWN_OVERFLOW = {}  # (route, width) → why it may still be wider than the viewport


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())
    return Organization.objects.get(slug="acme")


def _check(page, watch, route, path):
    """What is wrong with the page at `path`: a list of sentences (empty when all is well)."""
    problems = []
    page.set_viewport_size({"width": 1280, "height": 900})
    response = page.goto(path)
    if response.status >= 500:
        problems.append(f"answers {response.status}")
    if route != "login/" and "/login/" in page.url:
        problems.append("sent to the login page: the check would look at the wrong page")
    problems += [
        f"axe {rule}: {help} {targets}" for rule, help, targets in serious_violations(page)
    ]
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        if (extra := overflow(page)) > 0 and (route, width) not in KNOWN_OVERFLOW:
            problems.append(f"{extra}px wider than the viewport at {width}")
        if regions := unreachable_scroll_regions(page):
            problems.append(f"scroll regions the keyboard cannot reach at {width}: {regions}")
    page.set_viewport_size({"width": 1280, "height": 900})
    if hidden := hidden_table_actions(page):
        problems.append(f"table actions off-screen at 1280: {hidden}")
    problems += watch.take()
    return problems


def _problems_of(page, pages):
    watch = ConsoleWatch(page)
    found = {}
    for p in pages:
        if not answers_get(page, p.path):
            continue
        if problems := _check(page, watch, p.route, p.path):
            found[p.route] = problems
    return found


@pytest.mark.parametrize(
    "email", ["admin@acme.test", "dev@acme.test", "agent@acme.test", "guest@acme.test"]
)
def test_every_page_is_accessible_fits_a_phone_and_logs_no_error(page, demo, email):
    log_in(page, email, settings.DEMO_PASSWORD)
    found = _problems_of(page, portal_pages(demo, User.objects.get(email=email)))
    assert found == {}, "\n".join(f"{route}: {problems}" for route, problems in found.items())


def test_the_login_page_is_accessible_fits_a_phone_and_logs_no_error(page, demo):
    assert _problems_of(page, portal_pages(demo, None, anonymous=True)) == {}


def test_every_page_of_the_portal_is_enumerated(demo):
    routes = {p.route for p in portal_pages(demo, User.objects.get(email="admin@acme.test"))}
    assert {
        "orgs/<str:org_id>/admin/members/",
        "orgs/<str:org_id>/admin/credentials/",
        "orgs/<str:org_id>/developer/tokens/",
        "orgs/<str:org_id>/admin/webhooks/<int:webhook_id>/",
        "orgs/<str:org_id>/admin/webhooks/<int:webhook_id>/rotate",
        "orgs/<str:org_id>/admin/webhooks/<int:webhook_id>/delete",
        "api/docs/scopes/",
    } <= routes
