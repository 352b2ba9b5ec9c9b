"""In Chromium: the API reference at /api/docs/ (Swagger UI, served from the installed sidecar
package, nothing from outside) has no serious or critical axe violation, rendered, with an
operation open, and loads nothing from another origin."""

import pytest

from tests.browser.portal_pages import SERIOUS

pytestmark = pytest.mark.browser


def _serious(page):
    """Serious and critical only: Swagger UI's own heading levels are its to choose."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page).response["violations"]
    return [
        (v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results if v["impact"] in SERIOUS
    ]


def _rendered(page, live_server):
    outside = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith((live_server.url, "data:", "blob:"))
            else None
        ),
    )
    page.goto("/api/docs/")
    page.locator(".opblock").first.wait_for()
    return outside


def test_the_api_reference_has_no_serious_axe_violation(page, live_server, db):
    outside = _rendered(page, live_server)
    assert _serious(page) == []
    assert outside == []


def test_an_open_operation_has_no_serious_axe_violation(page, live_server, db):
    _rendered(page, live_server)
    page.locator(".opblock-summary-control").first.click()
    page.locator(".opblock-body").first.wait_for()
    assert _serious(page) == []


def test_the_api_reference_declares_its_language(page, live_server, db):
    _rendered(page, live_server)
    assert page.evaluate("document.documentElement.lang") == "en"
