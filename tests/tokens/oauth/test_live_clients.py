"""Third-party clients against a live Keyward: authlib (set up from discovery only), requests-oauthlib,
and PyJWT's PyJWKClient. The consent step is a logged-in `requests.Session` posting the consent form."""

import re
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings as django_settings
from django.test import Client
from requests_oauthlib import OAuth2Session as OAuthlibSession

from tests.factories import PASSWORD, make_client
from tests.tokens.oauth.helpers import REDIRECT_URI

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def plain_http_for_the_live_server(monkeypatch):
    # The live server speaks http on 127.0.0.1; both libraries refuse that unless told.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def discovery(live_server):
    response = requests.get(live_server.url + "/.well-known/oauth-authorization-server", timeout=10)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def app(dev):
    """A confidential client of Acme, registered by dev, allowed to introspect (dev is not admin: set directly)."""
    application, secret = make_client(dev, name="Conformance")
    application.allow_introspection = True
    application.save(update_fields=["allow_introspection"])
    return application, secret


def browser_session_of(user, live_server):
    """A requests.Session carrying a logged-in portal session cookie of `user`."""
    django_client = Client()
    django_client.force_login(user)
    session = requests.Session()
    session.cookies.set(
        django_settings.SESSION_COOKIE_NAME,
        django_client.cookies[django_settings.SESSION_COOKIE_NAME].value,
    )
    return session


def give_consent(session, authorization_url):
    """Open the consent page and press Authorize; the redirect to the client (its URL)."""
    page = session.get(authorization_url, timeout=10, allow_redirects=False)
    assert page.status_code == 200, page.text[:500]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    fields = {name: value.replace("&amp;", "&") for name, value in fields.items()}
    fields["allow"] = "Authorize"
    answer = session.post(
        authorization_url,
        data=fields,
        allow_redirects=False,
        timeout=10,
        headers={"Referer": authorization_url},
    )
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["Location"]


def authlib_client(application, secret, discovery, **kwargs):
    return OAuth2Session(
        application.client_id,
        secret,
        scope="read.me",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint=discovery["token_endpoint"],
        **kwargs,
    )


def code_flow(client, discovery, session):
    verifier = generate_token(64)
    url, state = client.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier
    )
    callback = give_consent(session, url)
    return callback, verifier, state


def test_authlib_set_up_from_discovery_completes_code_refresh_revocation_and_introspection(
    app, dev, discovery, live_server
):
    application, secret = app
    assert "S256" in discovery["code_challenge_methods_supported"]
    client = authlib_client(application, secret, discovery)
    callback, verifier, _ = code_flow(client, discovery, browser_session_of(dev, live_server))
    assert parse_qs(urlsplit(callback).query).get("iss") == [discovery["issuer"]], (
        callback
    )  # RFC 9207

    token = client.fetch_token(
        discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == django_settings.OAUTH_ACCESS_TOKEN_LIFETIME_SECONDS
    assert client.get(live_server.url + "/api/v1/me", timeout=10).status_code == 200

    renewed = client.refresh_token(
        discovery["token_endpoint"], refresh_token=token["refresh_token"]
    )
    assert renewed["access_token"] != token["access_token"]

    introspected = client.introspect_token(
        discovery["introspection_endpoint"], token=renewed["access_token"]
    )
    assert introspected.json()["active"] is True
    refresh_state = client.introspect_token(
        discovery["introspection_endpoint"], token=renewed["refresh_token"]
    )
    assert refresh_state.json()["active"] is True

    revoked = client.revoke_token(
        discovery["revocation_endpoint"],
        token=renewed["access_token"],
        token_type_hint="access_token",
    )
    assert revoked.status_code == 200
    after = client.introspect_token(
        discovery["introspection_endpoint"], token=renewed["access_token"]
    )
    assert after.json() == {"active": False}


def test_authlib_sees_the_rfc_error_codes(app, dev, discovery, live_server):
    application, secret = app
    session = browser_session_of(dev, live_server)
    client = authlib_client(application, secret, discovery)
    callback, verifier, _ = code_flow(client, discovery, session)

    wrong_secret = authlib_client(application, "not-the-secret", discovery)
    with pytest.raises(OAuthError) as failed:
        wrong_secret.fetch_token(
            discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
    assert failed.value.error == "invalid_client"

    with pytest.raises(OAuthError) as failed:
        client.fetch_token(
            discovery["token_endpoint"], authorization_response=callback, code_verifier="x" * 43
        )
    assert failed.value.error == "invalid_grant"

    token = client.fetch_token(
        discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    with pytest.raises(
        OAuthError
    ) as failed:  # the same code again: refused, and its tokens revoked
        client.fetch_token(
            discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
    assert failed.value.error == "invalid_grant"
    assert client.introspect_token(
        discovery["introspection_endpoint"], token=token["access_token"]
    ).json() == {"active": False}


def test_authlib_basic_failure_is_challenged_with_basic(app, discovery):
    application, _ = app
    response = requests.post(
        discovery["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        auth=(application.client_id, "wrong"),
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_authlib_concurrent_duplicate_refresh_keeps_the_grant(app, dev, discovery, live_server):
    application, secret = app
    client = authlib_client(application, secret, discovery)
    callback, verifier, _ = code_flow(client, discovery, browser_session_of(dev, live_server))
    token = client.fetch_token(
        discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    first = client.refresh_token(discovery["token_endpoint"], refresh_token=token["refresh_token"])
    with pytest.raises(OAuthError) as retried:
        authlib_client(application, secret, discovery).refresh_token(
            discovery["token_endpoint"], refresh_token=token["refresh_token"]
        )
    assert retried.value.error == "invalid_grant"
    assert (
        client.introspect_token(
            discovery["introspection_endpoint"], token=first["access_token"]
        ).json()["active"]
        is True
    )


def test_public_client_with_authlib_uses_pkce_alone(dev, discovery, live_server):
    application, _ = make_client(dev, name="Public", client_type="public")
    client = OAuth2Session(
        application.client_id,
        scope="read.me",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    callback, verifier, _ = code_flow(client, discovery, browser_session_of(dev, live_server))
    token = client.fetch_token(
        discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    renewed = client.refresh_token(
        discovery["token_endpoint"], refresh_token=token["refresh_token"]
    )
    assert (
        requests.get(
            live_server.url + "/api/v1/me",
            timeout=10,
            headers={"Authorization": f"Bearer {renewed['access_token']}"},
        ).status_code
        == 200
    )


def test_requests_oauthlib_completes_the_code_flow(app, dev, discovery, live_server):
    application, secret = app
    client = OAuthlibSession(
        application.client_id, redirect_uri=REDIRECT_URI, scope=["read.me"], pkce="S256"
    )
    url, _ = client.authorization_url(discovery["authorization_endpoint"])
    callback = give_consent(browser_session_of(dev, live_server), url)
    token = client.fetch_token(
        discovery["token_endpoint"],
        authorization_response=callback,
        client_secret=secret,
        include_client_id=False,
    )
    assert client.get(live_server.url + "/api/v1/me", timeout=10).status_code == 200
    renewed = client.refresh_token(
        discovery["token_endpoint"],
        refresh_token=token["refresh_token"],
        auth=(application.client_id, secret),
    )
    assert renewed["access_token"] != token["access_token"]


def test_pyjwkclient_verifies_a_login_token_against_the_published_jwks(dev, discovery, live_server):
    response = requests.post(
        live_server.url + "/api/v1/auth/token",
        timeout=10,
        json={"email": dev.email, "password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    access = response.json()["token"]
    key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(access)
    header = jwt.get_unverified_header(access)
    claims = jwt.decode(
        access, key.key, algorithms=[header["alg"]], issuer=django_settings.LOGIN_TOKEN_ISSUER
    )
    assert claims["sub"]


@pytest.mark.parametrize("method", ["plain", None])
def test_native_app_gets_authorize_errors_on_its_loopback_redirect(
    dev, discovery, live_server, method
):
    # RFC 8252 §7.3: an installed app listens on a loopback port; errors come back there too.
    redirect_uri = "http://127.0.0.1:8765/cb"
    application, _ = make_client(
        dev, name="Desktop app", client_type="public", redirect_uris=(redirect_uri,)
    )
    client = OAuth2Session(
        application.client_id,
        scope="read.me",
        redirect_uri=redirect_uri,
        code_challenge_method=method,
        token_endpoint_auth_method="none",
    )
    url, state = client.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=generate_token(64)
    )
    answer = browser_session_of(dev, live_server).get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:300]
    location = answer.headers["Location"]
    assert location.startswith(redirect_uri + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["error"] == ["invalid_request"]
    assert query["state"] == [state]
    assert query["iss"] == [discovery["issuer"]]
