"""Real Chromium through Playwright, against pytest-django's live server.

On a machine without Chromium these tests skip with a hint, unless
REQUIRE_BROWSER=1 (CI), where a missing browser fails the run.
"""

import io
import os
import shutil

import pytest

# Playwright's sync API runs an event loop in this thread; Django's guard against
# ORM calls from async code would otherwise refuse the test's own set-up queries.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_browser():
    return os.environ.get("REQUIRE_BROWSER", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def browser():
    missing = None
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        missing = f"Chromium not found at {CHROMIUM}: apt-get install -y chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "Playwright is not installed: make test installs it"
    if missing:
        if _require_browser():
            pytest.fail(missing + " (REQUIRE_BROWSER=1 forbids skipping)")
        pytest.skip(missing)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page, email, password):
    """Log in through the form, and fail unless it worked: a refused login leaves the browser on
    the login page, where every later check would quietly look at the login page instead."""
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert "/login/" not in page.url, f"{email} could not log in: still at {page.url}"
    assert page.get_by_role("button", name="Log out").is_visible(), f"{email} is not logged in"


@pytest.fixture
def demo(transactional_db):
    """The demo organization (`manage.py seed_demo`), for pages that need its people and data."""
    from django.core.management import call_command

    from accounts.models import Organization

    call_command("seed_demo", stdout=io.StringIO())
    return Organization.objects.get(slug="acme")
