"""In Chromium: a developer creates an API key, copies its secret once, uses it, rotates it and deletes it."""

import base64
import json
import urllib.error
import urllib.request

import pytest
from django.core.cache import cache

from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _get_me(live_server, key_id, secret):
    basic = base64.b64encode(f"{key_id}:{secret}".encode()).decode()
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/me", headers={"Authorization": f"Basic {basic}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_developer_creates_copies_uses_rotates_and_deletes_an_api_key(
    page, live_server, dev, org, transactional_db
):
    cache.clear()  # the database cache table (throttle counters) outlives transactional tests

    log_in(page, "dev@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/developer/")
    page.get_by_role("navigation", name="Developer").get_by_role("link", name="API keys").click()
    page.wait_for_url(f"**/orgs/{org.public_id}/developer/api-keys/")

    page.get_by_text(
        "Create API key", exact=True
    ).click()  # the list comes first; the form opens in place
    page.locator("#key-name").fill("server")
    # The picker folds each domain away behind an access level: "read" on Account is read.me.
    page.get_by_role("radiogroup", name="Access to Account").get_by_label("read").check()
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-key-secret").inner_text()
    key_id = page.locator("#new-key-id").inner_text()
    assert secret.startswith("kw_sk_") and key_id.startswith("kw_key_")
    assert page.get_by_text("it will not be shown again").is_visible()
    page.locator("#api-key-list tbody tr", has_text=key_id).wait_for()  # the list reloaded itself

    page.locator('button[data-copy="#new-key-secret"]').click()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert _get_me(live_server, key_id, secret)[0] == 200

    page.reload()
    assert secret not in page.content()
    row = page.locator("#api-key-list tbody tr", has_text=key_id)
    row.get_by_role("link", name="server").click()  # the detail opens in place, like a token's
    page.get_by_label("None: the old secret stops working at once").check()  # no grace preselected
    page.get_by_role("button", name="Rotate…").click()
    page.get_by_text("The old secret stops working at once").wait_for()  # the confirmation names it
    page.get_by_role("button", name="Rotate now").click()
    page.locator("#api-key-panel #new-key-secret").wait_for()
    rotated = page.locator("#new-key-secret").inner_text()
    assert rotated.startswith("kw_sk_") and rotated != secret
    assert _get_me(live_server, key_id, rotated)[0] == 200
    assert _get_me(live_server, key_id, secret)[0] == 401  # no grace picked

    page.locator("#api-key-detail").get_by_role("link", name="Delete…").click()
    page.get_by_text("This cannot be undone.").wait_for()
    page.get_by_role("button", name="Delete API key").click()
    page.get_by_text("API key “server”").wait_for()
    page.locator("#api-key-list", has_text="No API keys yet.").wait_for()
    assert _get_me(live_server, key_id, rotated)[0] == 401
