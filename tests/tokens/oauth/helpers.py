"""HTTP helpers for the OAuth tests: run the code + PKCE flow, call /o/ (clients: tests.factories.make_client)."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from django.test import Client

from tests.factories import OAUTH_REDIRECT_URI as REDIRECT_URI

FORM = "application/x-www-form-urlencoded"


def pkce():
    """An RFC 7636 verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


def authorize_query(
    application, challenge, *, scope="read.me", redirect_uri=REDIRECT_URI, state="xyz"
):
    return urlencode(
        {
            "response_type": "code",
            "client_id": application.client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": state,
        }
    )


def consent(
    user, application, challenge, *, scope="read.me", allow=True, redirect_uri=REDIRECT_URI
):
    """Log `user` in, open the consent page and answer it; the POST's response."""
    browser = Client()
    browser.force_login(user)
    page = browser.get(
        "/o/authorize/?"
        + authorize_query(application, challenge, scope=scope, redirect_uri=redirect_uri)
    )
    assert page.status_code == 200, page.content
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    if allow:
        data["allow"] = "Authorize"
    return browser.post(
        "/o/authorize/?"
        + authorize_query(application, challenge, scope=scope, redirect_uri=redirect_uri),
        data,
    )


def code_from(response):
    assert response.status_code == 302, response.content
    return parse_qs(urlsplit(response["Location"]).query)["code"][0]


def basic(client_id, secret):
    return {
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    }


def post_form(path, fields, **headers):
    return Client().post(
        path, urlencode(fields), content_type=FORM, REMOTE_ADDR="203.0.113.9", **headers
    )


def exchange(application, secret, code, verifier, *, redirect_uri=REDIRECT_URI):
    """POST /o/token/ with the code (form-encoded, client credentials in Basic)."""
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    if secret is None:
        return post_form("/o/token/", {**fields, "client_id": application.client_id})
    return post_form("/o/token/", fields, **basic(application.client_id, secret))


def grant(user, application, secret, *, scope="read.me"):
    """The whole flow; the token endpoint's JSON (access_token, refresh_token, scope…)."""
    verifier, challenge = pkce()
    code = code_from(consent(user, application, challenge, scope=scope))
    response = exchange(application, secret, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()
