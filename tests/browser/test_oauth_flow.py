"""In Chromium: the authorization-code + PKCE flow, regenerating a client secret, deleting a client."""

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.core.cache import cache

from tests.browser.conftest import log_in
from tests.factories import PASSWORD, issue, make_client
from tests.tokens.oauth.helpers import pkce
from tokens import secret_format
from tokens.models import AccessToken

pytestmark = pytest.mark.browser


def _call(request):
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _token_endpoint(live_server, client_id, secret, fields):
    """What a client's server does: POST /o/token/ form-encoded, client credentials in Basic."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    request = urllib.request.Request(
        f"{live_server.url}/o/token/",
        data=urllib.parse.urlencode(fields).encode(),
        method="POST",
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    return _call(request)


def _api(live_server, method, path, token):
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/{path}",
        method=method,
        headers={"Authorization": f"Bearer {token}"},
    )
    return _call(request)


def _authorize_in_browser(page, live_server, application, *, log_in_as=None):
    """Open the client's authorization URL, (log in,) approve on the consent page; the code and verifier."""
    redirect_uri = f"{live_server.url}/oauth-callback-test"
    verifier, challenge = pkce()
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": application.client_id,
            "redirect_uri": redirect_uri,
            "scope": "read.me",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "st4te",
        }
    )
    page.goto(f"/o/authorize/?{query}")
    if log_in_as:
        page.wait_for_url("**/login/?next=**")
        page.get_by_label("Email").fill(log_in_as)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/o/authorize/?**")
    assert page.get_by_role("heading", name=f"Authorize {application.name}?").is_visible()
    assert (
        page.locator("#consent-scopes")
        .get_by_text("Read your own user profile and organizations")
        .is_visible()
    )
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url("**/oauth-callback-test?**")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert query["state"] == ["st4te"]
    return query["code"][0], verifier, redirect_uri


def _exchange(live_server, application, secret, code, verifier, redirect_uri):
    return _token_endpoint(
        live_server,
        application.client_id,
        secret,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
    )


def test_authorization_code_flow_with_pkce_ends_in_an_api_call(
    page, live_server, dev, org, transactional_db
):
    cache.clear()  # the database cache table (throttle counters) outlives transactional tests
    application, secret = make_client(dev, redirect_uris=[f"{live_server.url}/oauth-callback-test"])

    code, verifier, redirect_uri = _authorize_in_browser(
        page, live_server, application, log_in_as="dev@acme.test"
    )
    status, body = _exchange(live_server, application, secret, code, verifier, redirect_uri)
    assert status == 200, body
    assert body["scope"] == "read.me"

    token = AccessToken.objects.get(token_checksum=secret_format.digest(body["access_token"]))
    assert token.kind == "oauth" and token.organization == org and token.user == dev

    status, me = _api(live_server, "GET", "me", body["access_token"])
    assert status == 200, me
    assert me["email"] == "dev@acme.test"


def test_after_regenerating_in_the_portal_the_old_secret_fails_and_the_new_one_works(
    page, live_server, dev, org, transactional_db
):
    cache.clear()
    application, old_secret = make_client(
        dev, redirect_uris=[f"{live_server.url}/oauth-callback-test"]
    )
    log_in(page, "dev@acme.test", PASSWORD)
    code, verifier, redirect_uri = _authorize_in_browser(page, live_server, application)
    status, tokens = _exchange(live_server, application, old_secret, code, verifier, redirect_uri)
    assert status == 200, tokens

    page.goto(f"/orgs/{org.public_id}/")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Developer").click()
    page.get_by_role("navigation", name="Developer").get_by_role(
        "link", name="OAuth clients"
    ).click()
    page.get_by_role("link", name=application.name).click()
    page.get_by_role("link", name="Regenerate secret…").click()
    page.get_by_text(
        "stops working at once"
    ).first.wait_for()  # the confirmation names the consequence
    page.get_by_role("button", name="Regenerate now").click()
    new_secret = page.locator("#oauth-client-secret").inner_text()
    assert len(new_secret) == 128 and new_secret != old_secret
    page.locator('button[data-copy="#oauth-client-secret"]').click()
    assert page.evaluate("navigator.clipboard.readText()") == new_secret

    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    status, body = _token_endpoint(live_server, application.client_id, old_secret, refresh)
    assert status == 401
    assert body["error"] == "invalid_client"
    status, body = _token_endpoint(live_server, application.client_id, new_secret, refresh)
    assert status == 200, body
    assert _api(live_server, "GET", "me", body["access_token"])[0] == 200

    page.reload()
    assert new_secret not in page.content()


def test_admin_cannot_revoke_a_developers_token_but_deletes_the_client_which_kills_it(
    page, live_server, dev, alice, org, transactional_db
):
    cache.clear()
    application, secret = make_client(
        dev, name="Dev's reporting app", redirect_uris=[f"{live_server.url}/oauth-callback-test"]
    )
    log_in(page, "dev@acme.test", PASSWORD)
    code, verifier, redirect_uri = _authorize_in_browser(page, live_server, application)
    status, tokens = _exchange(live_server, application, secret, code, verifier, redirect_uri)
    assert status == 200, tokens
    grant_id = AccessToken.objects.get(
        token_checksum=secret_format.digest(tokens["access_token"])
    ).pk

    _, admin_token = issue(alice, scopes=("delete.oauth_tokens",))
    status, body = _api(live_server, "DELETE", f"oauth-tokens/{grant_id}", admin_token)
    assert status == 403
    assert body["code"] == "permission_denied"
    assert _api(live_server, "GET", "me", tokens["access_token"])[0] == 200

    page.goto(f"/orgs/{org.public_id}/")
    page.get_by_role("button", name="Log out").click()
    log_in(page, "alice@acme.test", PASSWORD)
    page.goto(f"/orgs/{org.public_id}/developer/oauth-clients/")
    page.get_by_role("link", name="Dev's reporting app").click()
    page.get_by_role("link", name="Delete…").click()
    assert page.get_by_text("This cannot be undone").is_visible()
    page.get_by_role("button", name="Delete client").click()
    page.wait_for_url(f"**/orgs/{org.public_id}/developer/oauth-clients/")
    assert page.get_by_text("Every token issued to it stopped working").is_visible()

    status, body = _api(live_server, "GET", "me", tokens["access_token"])
    assert status == 401
