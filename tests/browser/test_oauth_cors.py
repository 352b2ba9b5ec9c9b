"""In Chromium: a public client page served from another origin runs code + PKCE + refresh itself.

The page lives on a second tiny HTTP server (127.0.0.1, another port); the consent page
opens in the top window, and the page's own JavaScript then calls Keyward's /o/token/
with fetch. That works only from an origin the client registered (CORS).
"""

import json
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache

from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_client
from tests.tokens.oauth.helpers import pkce

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SPA</title></head><body>
<pre id="out"></pre>
<script>
const config = %(config)s;
async function post(path, fields) {
  try {
    const response = await fetch(config.keyward + path, {method: "POST", body: new URLSearchParams(fields)});
    return {status: response.status, body: await response.json()};
  } catch (error) {
    return {error: String(error)};
  }
}
async function run() {
  const params = new URLSearchParams(location.search);
  const result = {iss: params.get("iss")};
  result.token = await post("/o/token/", {
    grant_type: "authorization_code", client_id: config.clientId, code: params.get("code"),
    redirect_uri: config.redirectUri, code_verifier: config.verifier,
  });
  if (result.token.body && result.token.body.refresh_token) {
    result.refresh = await post("/o/token/", {
      grant_type: "refresh_token", client_id: config.clientId, refresh_token: result.token.body.refresh_token,
    });
  }
  try {
    await fetch(config.keyward + "/api/v1/me", {headers: {Authorization: "Bearer x"}});
    result.api = "readable";
  } catch (error) {
    result.api = String(error);
  }
  const out = document.getElementById("out");
  out.textContent = JSON.stringify(result);
  out.dataset.done = "yes";
}
if (location.pathname === "/callback") run();
</script></body></html>"""


@pytest.fixture
def spa_server():
    """A second origin (http://127.0.0.1:<port>) serving the public client's page; yields (origin, set_config)."""
    state = {"config": {}}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = (PAGE % {"config": json.dumps(state["config"])}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


def _flow(page, live_server, dev, spa_server, *, allowed_origins):
    cache.clear()  # the database cache table (throttle counters) outlives transactional tests
    origin, state = spa_server
    redirect_uri = origin + "/callback"
    application, _ = make_client(
        dev,
        name="Browser app",
        client_type="public",
        redirect_uris=[redirect_uri],
        allowed_origins=allowed_origins(origin),
    )
    verifier, challenge = pkce()
    state["config"] = {
        "keyward": live_server.url,
        "clientId": application.client_id,
        "redirectUri": redirect_uri,
        "verifier": verifier,
    }
    log_in(page, "dev@acme.test", PASSWORD)
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": application.client_id,
            "redirect_uri": redirect_uri,
            "scope": "read.me",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "s",
        }
    )
    page.goto(f"/o/authorize/?{query}")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(redirect_uri + "?**")
    page.wait_for_selector("#out[data-done]")
    return json.loads(page.locator("#out").text_content())


def test_public_client_page_on_its_registered_origin_runs_code_pkce_and_refresh(
    page, live_server, dev, org, spa_server, transactional_db
):
    result = _flow(page, live_server, dev, spa_server, allowed_origins=lambda origin: [origin])
    assert result["iss"] == live_server.url
    assert result["token"].get("status") == 200, result
    assert result["refresh"]["status"] == 200, result
    renewed = result["refresh"]["body"]["access_token"]
    assert renewed != result["token"]["body"]["access_token"]
    assert "Failed to fetch" in result["api"]  # the API stays closed to browsers by default
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {renewed}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def test_public_client_page_on_an_unregistered_origin_cannot_read_the_token_response(
    page, live_server, dev, org, spa_server, transactional_db
):
    result = _flow(
        page,
        live_server,
        dev,
        spa_server,
        allowed_origins=lambda origin: ["https://registered.example.com"],
    )
    assert "Failed to fetch" in result["token"]["error"]
    assert "refresh" not in result
