"""In Chromium: two API logins are two rows on the Sessions tab; ending one kills its token at once."""

import json
import urllib.error
import urllib.request

import pytest
from django.core.cache import cache

from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _call(url, *, body=None, token=None, user_agent="pytest"):
    headers = {"Content-Type": "application/json", "User-Agent": user_agent}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, headers=headers, method="POST" if data else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _api_login(live_server, user_agent):
    status, body = _call(
        f"{live_server.url}/api/v1/auth/token",
        user_agent=user_agent,
        body={"email": "alice@acme.test", "password": PASSWORD},
    )
    assert status == 200, body
    return body["token"]


def test_ending_a_session_in_the_portal_makes_its_token_answer_401_at_once(
    page, live_server, alice, org
):
    cache.clear()  # the database cache table outlives transactional tests
    phone = _api_login(live_server, "Phone app 1.0")
    laptop = _api_login(live_server, "Laptop script 2.0")

    log_in(page, "alice@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/")
    page.get_by_role("link", name="Your sessions").click()
    rows = page.locator("#session-list tbody tr")
    assert rows.count() == 2
    assert page.get_by_role("cell", name="Phone app 1.0").is_visible()
    assert page.get_by_role("cell", name="Laptop script 2.0").is_visible()

    rows.filter(has_text="Phone app 1.0").get_by_role("button", name="End session").click()
    page.get_by_text("Session ended. Its tokens no longer work.").wait_for()

    status, body = _call(f"{live_server.url}/api/v1/me", token=phone)
    assert (status, body["code"]) == (401, "token_revoked")
    assert _call(f"{live_server.url}/api/v1/me", token=laptop)[0] == 200

    page.reload()
    assert page.locator("#session-list tbody tr").count() == 1
    assert page.get_by_role("cell", name="Laptop script 2.0").is_visible()
