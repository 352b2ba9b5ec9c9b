"""In Chromium: a developer generates a token, copies it once, uses it, renames it and deletes it."""

import json
import urllib.error
import urllib.request

import pytest
from django.core.cache import cache

from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _get_me(live_server, token):
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_developer_generates_copies_uses_renames_and_deletes_a_token(
    page, live_server, dev, org, transactional_db
):
    cache.clear()  # the database cache table (throttle counters) outlives transactional tests

    log_in(page, "dev@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Developer").click()
    page.get_by_role("navigation", name="Developer").get_by_role(
        "link", name="Access tokens"
    ).click()
    page.wait_for_url(f"**/orgs/{org.public_id}/developer/tokens/")

    page.get_by_text("Generate new token").click()  # the list comes first; the form opens in place
    page.locator("#id_name").fill("CI deploys")
    # The picker folds each domain away behind an access level: "read" on Account is read.me.
    page.get_by_role("radiogroup", name="Access to Account").get_by_label("read").check()
    page.get_by_role("button", name="Generate token").click()
    secret = page.locator("#new-token-secret").inner_text()
    assert secret.startswith("kw_pat_")
    assert page.get_by_text("it will not be shown again").is_visible()

    page.locator('button[data-copy="#new-token-secret"]').click()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    status, body = _get_me(live_server, secret)
    assert status == 200, body

    page.reload()
    assert secret not in page.content()
    row = page.locator("#token-list tbody tr", has_text="CI deploys")
    assert row.count() == 1
    assert f"…{secret[-4:]}" in row.inner_text()

    row.get_by_role("link", name="CI deploys").click()
    page.locator("#rename-name").fill("CI deploys (prod)")
    page.get_by_role("button", name="Rename").click()
    page.locator("#token-name", has_text="CI deploys (prod)").wait_for()
    page.locator(
        "#token-list tbody tr", has_text="CI deploys (prod)"
    ).wait_for()  # the list reloaded itself

    page.get_by_role("link", name="Delete…").click()
    page.get_by_text("This cannot be undone.").wait_for()
    page.get_by_role("button", name="Delete this token").click()
    page.get_by_text("Token “CI deploys (prod)”").wait_for()
    page.locator("#no-tokens").wait_for()  # and it is gone from the list

    status, body = _get_me(live_server, secret)
    assert (status, body["code"]) == (401, "token_revoked")
