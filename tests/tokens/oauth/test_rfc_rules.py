"""The RFC rules of /o/ that integrators trip over, one test each (issue 11, issue 10 findings 7 and 8)."""

import base64
import datetime
import hashlib
import io
import json
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import Grant

from tests.factories import bearer, make_client
from tests.tokens.oauth.helpers import (
    REDIRECT_URI,
    authorize_query,
    basic,
    code_from,
    consent,
    exchange,
    grant,
    pkce,
    post_form,
)
from tokens import secret_format
from tokens.models import AccessToken, RefreshToken
from tokens.oauth import validator

pytestmark = pytest.mark.django_db


def refresh(application, secret, refresh_token, **headers):
    return post_form(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        **(headers or basic(application.client_id, secret)),
    )


def authorize_redirect(user, application, query):
    """GET /o/authorize/ as `user` with a raw query; the response (a redirect with an error, or the page)."""
    browser = Client()
    browser.force_login(user)
    return browser.get("/o/authorize/?" + query)


def redirect_error(response):
    assert response.status_code == 302, response.content
    return parse_qs(urlsplit(response["Location"]).query)


# --- refresh: a retry within the window, reuse after it ---------------------------------


def test_retried_refresh_within_the_window_is_refused_and_keeps_the_grant(dev, api):
    application, secret = make_client(dev)
    first = grant(dev, application, secret)
    winner = refresh(application, secret, first["refresh_token"])
    assert winner.status_code == 200
    retry = refresh(application, secret, first["refresh_token"])
    assert retry.status_code == 400
    assert retry["Content-Type"] == "application/json"
    assert retry.json()["error"] == "invalid_grant"
    assert "concurrent" in retry.json()["error_description"]
    assert api.get("/api/v1/me", **bearer(winner.json()["access_token"])).status_code == 200
    assert refresh(application, secret, winner.json()["refresh_token"]).status_code == 200


def test_reused_refresh_token_after_the_window_revokes_its_family(dev, api):
    application, secret = make_client(dev)
    first = grant(dev, application, secret)
    winner = refresh(application, secret, first["refresh_token"]).json()
    RefreshToken.objects.filter(token_checksum=secret_format.digest(first["refresh_token"])).update(
        revoked=timezone.now() - validator.CONCURRENT_REFRESH_WINDOW - datetime.timedelta(seconds=1)
    )
    reuse = refresh(application, secret, first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert api.get("/api/v1/me", **bearer(winner["access_token"])).status_code == 401
    assert refresh(application, secret, winner["refresh_token"]).status_code == 400


def test_refresh_token_revoked_by_its_client_is_refused_at_once(dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    post_form(
        "/o/revoke_token/", {"token": body["refresh_token"]}, **basic(application.client_id, secret)
    )
    response = refresh(application, secret, body["refresh_token"])
    assert response.status_code == 400
    assert "concurrent" not in response.json().get("error_description", "")


# --- PKCE (RFC 7636 §4.1, RFC 9700 §2.1.1) -----------------------------------------------


def test_plain_code_challenge_method_is_refused(dev):
    application, _ = make_client(dev)
    verifier, _ = pkce()
    query = authorize_query(application, verifier).replace(
        "code_challenge_method=S256", "code_challenge_method=plain"
    )
    error = redirect_error(authorize_redirect(dev, application, query))
    assert error["error"] == ["invalid_request"]
    assert not Grant.objects.exists()


def test_challenge_without_a_method_is_refused_as_plain(dev):
    application, _ = make_client(dev)
    _, challenge = pkce()
    query = authorize_query(application, challenge).replace("&code_challenge_method=S256", "")
    assert redirect_error(authorize_redirect(dev, application, query))["error"] == [
        "invalid_request"
    ]


@pytest.mark.parametrize("challenge", ["abc", "A" * 42, "A" * 44, "a+b/" * 10 + "abc", "=" * 43])
def test_challenge_that_is_not_a_43_character_base64url_digest_is_refused(dev, challenge):
    application, _ = make_client(dev)
    query = authorize_query(application, challenge)
    assert redirect_error(authorize_redirect(dev, application, query))["error"] == [
        "invalid_request"
    ]


@pytest.mark.parametrize(
    "verifier", ["short", "a" * 42, "a" * 129, "a" * 42 + "!", "a" * 42 + " ", "é" * 43]
)
def test_verifier_outside_43_to_128_unreserved_characters_is_refused(dev, verifier):
    application, secret = make_client(dev)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    code = code_from(consent(dev, application, challenge))
    response = exchange(application, secret, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert not AccessToken.objects.filter(application=application).exists()


@pytest.mark.parametrize("length", [43, 128])
def test_verifier_of_43_or_128_unreserved_characters_is_accepted(dev, length):
    application, secret = make_client(dev)
    verifier = ("aZ9-._~" * 20)[:length]
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    code = code_from(consent(dev, application, challenge))
    assert exchange(application, secret, code, verifier).status_code == 200


# --- the token endpoint's errors (RFC 6749 §4.1.2, §4.1.3, §5.2) ----------------------------


def test_client_failing_basic_authentication_at_the_token_endpoint_is_challenged_with_basic(dev):
    application, _ = make_client(dev)
    response = post_form(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": "x"},
        **basic(application.client_id, "wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic ")


def test_client_failing_basic_authentication_at_revocation_is_challenged_with_basic(dev):
    application, _ = make_client(dev)
    response = post_form(
        "/o/revoke_token/", {"token": "x"}, **basic(application.client_id, "wrong")
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize("scheme", ["BASIC", "basic", "bAsIc"])
def test_basic_scheme_is_recognised_in_any_case(dev, scheme):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    header = basic(application.client_id, secret)["HTTP_AUTHORIZATION"].replace("Basic", scheme, 1)
    response = refresh(application, secret, body["refresh_token"], HTTP_AUTHORIZATION=header)
    assert response.status_code == 200


def test_redirect_uri_differing_at_the_token_endpoint_is_invalid_grant(dev):
    application, secret = make_client(
        dev, redirect_uris=(REDIRECT_URI, "https://app.example.com/other")
    )
    verifier, challenge = pkce()
    code = code_from(consent(dev, application, challenge))
    response = exchange(
        application, secret, code, verifier, redirect_uri="https://app.example.com/other"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_replayed_authorization_code_revokes_the_tokens_issued_from_it(dev, api):
    application, secret = make_client(dev)
    verifier, challenge = pkce()
    code = code_from(consent(dev, application, challenge))
    first = exchange(application, secret, code, verifier).json()
    replay = exchange(application, secret, code, verifier)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert api.get("/api/v1/me", **bearer(first["access_token"])).status_code == 401
    assert refresh(application, secret, first["refresh_token"]).status_code == 400


def test_token_response_says_the_access_tokens_true_lifetime(dev, settings):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    token = AccessToken.objects.get(token_checksum=secret_format.digest(body["access_token"]))
    assert body["expires_in"] == settings.OAUTH_ACCESS_TOKEN_LIFETIME_SECONDS == 3600
    lifetime = (token.expires - token.created).total_seconds()
    assert abs(lifetime - body["expires_in"]) < 5


# --- credentials never in the URL (RFC 6749 §2.3.1; issue 10 finding 7) --------------------


@pytest.mark.parametrize("path", ["/o/token/", "/o/revoke_token/", "/o/introspect/"])
def test_client_secret_in_the_query_string_is_refused_and_authenticates_nothing(alice, path):
    application, secret = make_client(alice, allow_introspection=True)
    body = grant(alice, application, secret)
    query = f"?client_id={application.client_id}&client_secret={secret}"
    response = post_form(
        path + query,
        {
            "token": body["access_token"],
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "never in the URL" in response.json()["error_description"]
    assert AccessToken.objects.get(
        token_checksum=secret_format.digest(body["access_token"])
    ).is_live()


# --- introspection of a refresh token (RFC 7662 §2.2) -------------------------------------------


def test_live_refresh_token_introspects_as_active(alice):
    application, secret = make_client(alice, allow_introspection=True)
    body = grant(alice, application, secret)
    response = post_form(
        "/o/introspect/", {"token": body["refresh_token"]}, **basic(application.client_id, secret)
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["active"] is True
    assert answer["token_type"] == "refresh_token"
    assert answer["client_id"] == application.client_id
    assert answer["exp"] > answer["iat"]


def test_rotated_refresh_token_introspects_as_inactive(alice):
    application, secret = make_client(alice, allow_introspection=True)
    body = grant(alice, application, secret)
    refresh(application, secret, body["refresh_token"])
    response = post_form(
        "/o/introspect/", {"token": body["refresh_token"]}, **basic(application.client_id, secret)
    )
    assert response.json() == {"active": False}


# --- RFC 6750 at the API ---------------------------------------------------------------------


def test_request_without_credentials_gets_a_bare_bearer_challenge(api):
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_token_in_the_query_string_is_a_400_invalid_request(dev, api):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    response = api.get("/api/v1/me?access_token=" + body["access_token"])
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


# --- authorization codes at rest (issue 10 finding 8) ------------------------------------------


def test_no_raw_authorization_code_is_in_the_database(dev):
    application, _ = make_client(dev)
    code = code_from(consent(dev, application, pkce()[1]))
    stored = Grant.objects.get(application=application)
    assert stored.code == hashlib.sha256(code.encode()).hexdigest()
    assert not Grant.objects.filter(code=code).exists()


def test_purge_expired_deletes_expired_codes_and_keeps_live_tokens(dev):
    application, secret = make_client(dev)
    code_from(consent(dev, application, pkce()[1]))
    Grant.objects.update(expires=timezone.now() - datetime.timedelta(seconds=1))
    body = grant(dev, application, secret)
    call_command("purge_expired", stdout=io.StringIO())
    assert not Grant.objects.exists()
    assert AccessToken.objects.get(
        token_checksum=secret_format.digest(body["access_token"])
    ).is_live()
    assert RefreshToken.objects.filter(
        token_checksum=secret_format.digest(body["refresh_token"])
    ).exists()


def test_purge_expired_deletes_an_expired_access_token_no_refresh_token_needs(dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    token = AccessToken.objects.get(token_checksum=secret_format.digest(body["access_token"]))
    post_form(
        "/o/revoke_token/", {"token": body["refresh_token"]}, **basic(application.client_id, secret)
    )
    AccessToken.objects.filter(pk=token.pk).update(
        expires=timezone.now() - datetime.timedelta(seconds=1)
    )
    call_command("purge_expired", stdout=io.StringIO())
    assert not AccessToken.objects.filter(pk=token.pk).exists()


# --- schemes are case-insensitive at the API too (RFC 9110 §11.1) -------------------------------


@pytest.mark.parametrize("scheme", ["BASIC", "basic"])
def test_api_key_basic_scheme_is_recognised_in_any_case(api, alice, scheme):
    import base64

    from tests.factories import make_api_key

    key, secret = make_api_key(alice)
    header = f"{scheme} " + base64.b64encode(f"{key.key_id}:{secret}".encode()).decode()
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=header).status_code == 200


def test_api_key_jwt_under_bearer_in_capitals_is_recognised(api, alice):
    import jwt

    from tests.factories import make_api_key

    key, secret = make_api_key(alice)
    header = "BEARER " + jwt.encode(
        {"scope": "app"}, secret, algorithm="HS256", headers={"kid": key.key_id}
    )
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=header).status_code == 200


def test_oauth_token_under_bearer_in_capitals_is_recognised(api, dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    assert (
        api.get("/api/v1/me", HTTP_AUTHORIZATION="BEARER " + body["access_token"]).status_code
        == 200
    )


# --- RFC 8252 §7.3: a native app's loopback redirect gets its errors like any other ---------

LOOPBACK_REDIRECTS = ["http://127.0.0.1:8765/cb", "http://localhost:8765/cb"]
AUTHORIZE_ERRORS = {
    "no PKCE": ("&code_challenge=CHALLENGE&code_challenge_method=S256", ""),
    "plain": ("code_challenge_method=S256", "code_challenge_method=plain"),
    "an unknown method": ("code_challenge_method=S256", "code_challenge_method=S512"),
    "challenge abc": ("code_challenge=CHALLENGE", "code_challenge=abc"),
    "an unknown scope": ("scope=read.me", "scope=read.nothing"),
    "response_type=token": ("response_type=code", "response_type=token"),
}


@pytest.mark.parametrize("redirect_uri", [*LOOPBACK_REDIRECTS, REDIRECT_URI])
@pytest.mark.parametrize("mistake", list(AUTHORIZE_ERRORS))
def test_authorize_error_redirects_to_a_registered_loopback_uri(dev, caplog, redirect_uri, mistake):
    application, _ = make_client(dev, client_type="public", redirect_uris=(redirect_uri,))
    _, challenge = pkce()
    query = authorize_query(application, challenge, redirect_uri=redirect_uri)
    old, new = AUTHORIZE_ERRORS[mistake]
    query = query.replace(old.replace("CHALLENGE", challenge), new)
    with caplog.at_level(logging.DEBUG):
        response = authorize_redirect(dev, application, query)
    assert response.status_code == 302, response.content
    assert response["Location"].startswith(redirect_uri + "?")
    error = redirect_error(response)
    assert error["error"][0] in {"invalid_request", "invalid_scope", "unauthorized_client"}
    assert error["state"] == ["xyz"]
    assert error["iss"] == ["http://testserver"]
    assert not [record for record in caplog.records if record.exc_info]
    assert "DisallowedRedirect" not in caplog.text


# --- RFC 6749 §4.1.3, RFC 7009 §2.1, RFC 7662 §2.1: form-encoded bodies only --------------


@pytest.mark.parametrize("path", ["/o/token/", "/o/revoke_token/", "/o/introspect/"])
@pytest.mark.parametrize("content_type", ["application/json", "application/merge-patch+json"])
def test_json_body_is_refused_as_invalid_request_saying_the_body_must_be_form_encoded(
    dev, path, content_type
):
    application, secret = make_client(dev)
    response = Client().post(
        path,
        json.dumps({"grant_type": "refresh_token", "refresh_token": "x", "token": "x"}),
        content_type=content_type,
        **basic(application.client_id, secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "application/x-www-form-urlencoded" in response.json()["error_description"]
    assert response["Cache-Control"] == "no-store"
