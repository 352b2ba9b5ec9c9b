"""RFC 8414 discovery, RFC 9207 `iss`, DOT's RFC 9700 deploy checks, CORS, lifetimes and the client log line."""

import logging
import re
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client

from accounts.models import Membership
from tests.factories import bearer, issue, make_client
from tests.tokens.oauth.helpers import (
    authorize_query,
    basic,
    consent,
    grant,
    pkce,
    post_form,
)
from tokens import scopes as catalog
from tokens.models import Application
from tokens.oauth import services

pytestmark = pytest.mark.django_db

ORIGIN = "http://testserver"
SPA = "https://spa.example.com"

# django-oauth-toolkit's RFC 9700 warnings we keep on purpose, each with its reason. Empty:
# every switch is on (W008 is gone because http is allowed per client, for loopback only).
DELIBERATE_OAUTH_WARNINGS = {}


def metadata():
    response = Client().get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    return response


def test_metadata_names_every_endpoint_under_the_origin_as_issuer():
    data = metadata().json()
    assert data["issuer"] == ORIGIN
    assert data["authorization_endpoint"] == ORIGIN + "/o/authorize/"
    assert data["token_endpoint"] == ORIGIN + "/o/token/"
    assert data["revocation_endpoint"] == ORIGIN + "/o/revoke_token/"
    assert data["introspection_endpoint"] == ORIGIN + "/o/introspect/"
    assert data["jwks_uri"] == ORIGIN + "/.well-known/jwks.json"
    assert data["service_documentation"] == ORIGIN + "/api/docs/"


def test_metadata_states_only_what_keyward_accepts():
    data = metadata().json()
    assert data["response_types_supported"] == ["code"]
    assert data["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["authorization_response_iss_parameter_supported"] is True
    assert set(data["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }
    assert "client_secret_basic" in data["revocation_endpoint_auth_methods_supported"]
    assert data["introspection_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]


def test_metadata_scopes_are_the_catalog():
    assert set(metadata().json()["scopes_supported"]) == set(catalog.SCOPES) | set(
        catalog.ROLE_BUNDLES
    )


def test_metadata_is_cacheable_and_readable_from_any_origin():
    response = Client().get("/.well-known/oauth-authorization-server", HTTP_ORIGIN=SPA)
    assert "max-age=" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_issuer_setting_names_the_issuer(settings):
    from oauth2_provider.settings import oauth2_settings

    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_ISS_ENDPOINT": "https://keyward.example.com",
    }
    try:
        data = metadata().json()
    finally:
        oauth2_settings.reload()
    assert data["issuer"] == "https://keyward.example.com"
    assert data["token_endpoint"] == "https://keyward.example.com/o/token/"


def test_issuer_never_follows_the_host_header_or_forwarded_proto(settings):
    # Both headers are the caller's to choose; a cached document must not carry them.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = Client().get(
        "/.well-known/oauth-authorization-server",
        HTTP_HOST="localhost",
        HTTP_X_FORWARDED_PROTO="https",
    )
    data = response.json()
    assert data["issuer"] == django_settings.OAUTH_ISSUER
    urls = [value for value in data.values() if isinstance(value, str) and "://" in value]
    assert len(urls) >= 7
    assert all(
        url.startswith(django_settings.OAUTH_ISSUER + "/") for url in urls if url != data["issuer"]
    )
    assert "localhost" not in response.content.decode()


def test_authorization_response_issuer_never_follows_the_host_header(dev):
    application, _ = make_client(dev)
    browser = Client(HTTP_HOST="localhost")
    browser.force_login(dev)
    response = browser.get(
        "/o/authorize/?"
        + authorize_query(application, "x").replace(
            "&code_challenge=x&code_challenge_method=S256", ""
        )
    )
    assert parse_qs(urlsplit(response["Location"]).query)["iss"] == [django_settings.OAUTH_ISSUER]


def test_jwks_is_readable_from_any_origin():
    response = Client().get("/.well-known/jwks.json", HTTP_ORIGIN=SPA)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"


def test_authorization_response_carries_the_issuer(dev):
    application, _ = make_client(dev)
    response = consent(dev, application, pkce()[1])
    assert parse_qs(urlsplit(response["Location"]).query)["iss"] == [ORIGIN]


def test_error_authorization_response_carries_the_issuer_too(dev):
    application, _ = make_client(dev)
    response = consent(dev, application, pkce()[1], allow=False)
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["error"] == ["access_denied"]
    assert query["iss"] == [ORIGIN]


def test_deploy_check_shows_no_oauth_warning_that_is_not_a_deliberate_choice(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HTTPS": "true",
        "DEBUG": "false",
        "SECRET_KEY": "deploy-check-" + "x" * 60,
        "ALLOWED_HOSTS": "keyward.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    raised = set(re.findall(r"\((oauth2_provider\.[WE]\d+)\)", output))
    assert raised <= set(DELIBERATE_OAUTH_WARNINGS), output


# --- CORS --------------------------------------------------------------------------------------


@pytest.fixture
def spa(dev):
    """A public browser client of Acme that registered https://spa.example.com."""
    application, _ = make_client(dev, client_type="public", allowed_origins=[SPA])
    return application


def preflight(path, origin):
    return Client().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )


def test_token_endpoint_preflight_answers_an_origin_a_client_registered(spa):
    response = preflight("/o/token/", SPA)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SPA
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_token_endpoint_preflight_ignores_an_unregistered_origin(spa):
    assert "Access-Control-Allow-Origin" not in preflight("/o/token/", "https://evil.example.com")


def test_token_response_allows_only_the_calling_clients_origins(spa, dev):
    other, _ = make_client(
        dev, client_type="public", name="Other", allowed_origins=["https://other.example.com"]
    )
    fields = {"grant_type": "refresh_token", "refresh_token": "x"}
    own = post_form("/o/token/", {**fields, "client_id": spa.client_id}, HTTP_ORIGIN=SPA)
    foreign = post_form("/o/token/", {**fields, "client_id": other.client_id}, HTTP_ORIGIN=SPA)
    assert own["Access-Control-Allow-Origin"] == SPA
    assert "Access-Control-Allow-Origin" not in foreign


def test_api_is_closed_to_browsers_by_default(spa):
    response = Client().options(
        "/api/v1/me", HTTP_ORIGIN=SPA, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert "Access-Control-Allow-Origin" not in response


def test_api_answers_the_origins_of_its_setting(settings):
    settings.CORS_API_ALLOWED_ORIGINS = [SPA]
    response = Client().options(
        "/api/v1/me",
        HTTP_ORIGIN=SPA,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert response["Access-Control-Allow-Origin"] == SPA


def test_api_answers_vary_on_origin_whether_or_not_one_was_sent(settings, dev):
    # A shared cache must not hand a same-origin answer to a browser asking cross-origin.
    settings.CORS_API_ALLOWED_ORIGINS = [SPA]
    _token, secret = issue(dev, scopes=["read.me"])
    plain = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    cross = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ORIGIN=SPA)
    assert plain.status_code == cross.status_code == 200
    assert "origin" in plain["Vary"].lower()
    assert "Access-Control-Allow-Origin" not in plain
    assert "origin" in cross["Vary"].lower()
    assert cross["Access-Control-Allow-Origin"] == SPA


def test_a_portal_page_does_not_vary_on_origin():
    # CORS is off outside the API and the OAuth endpoints: nothing to vary on.
    assert "origin" not in Client().get("/accounts/login/").get("Vary", "").lower()


@pytest.mark.parametrize(
    "origin",
    [
        "http://spa.example.com",
        "https://spa.example.com/path",
        "spa.example.com",
        "https://user@spa.example.com",
    ],
)
def test_client_origin_must_be_https_scheme_and_host_only(dev, origin):
    with pytest.raises(services.Refused) as refused:
        make_client(dev, allowed_origins=[origin])
    assert refused.value.code == "invalid_origin"


@pytest.mark.parametrize(
    "origin",
    [
        "https://*.example.com",
        "https://*",
        "https://app.*.example.com",
        "https://app .example.com",
        "https://-app.example.com",
        "https://app..example.com",
    ],
)
def test_wildcard_or_malformed_host_in_an_allowed_origin_is_refused_at_registration(
    api, dev, origin
):
    # A browser's Origin header names one exact host: a pattern could never match.
    _token, secret = issue(dev, scopes=["create.oauth_clients"])
    response = api.post(
        "/api/v1/oauth-clients",
        {
            "name": "Browser app",
            "redirectUris": ["https://app.example.com/cb"],
            "clientType": "public",
            "allowedOrigins": [origin],
        },
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_origin"
    assert origin in response.json()["detail"]
    assert not Application.objects.filter(name="Browser app").exists()


@pytest.mark.parametrize(
    "origin",
    ["https://app.example.com:8443", "https://xn--bcher-kva.example", "https://[::1]:8443"],
)
def test_exact_origin_with_a_port_punycode_or_ip_host_is_accepted(dev, origin):
    application, _ = make_client(dev, client_type="public", allowed_origins=[origin])
    assert application.allowed_origins == origin


def test_loopback_origin_over_http_is_allowed(dev):
    application, _ = make_client(
        dev, client_type="public", allowed_origins=["http://127.0.0.1:8765"]
    )
    assert application.allowed_origins == "http://127.0.0.1:8765"


# --- the OAuth client's life -------------------------------------------------------------------


def test_deleting_a_client_logs_its_id(dev, caplog):
    application, _ = make_client(dev)
    pk = application.pk
    with caplog.at_level(logging.INFO, logger="tokens.oauth.services"):
        services.delete_client(application=application, by=dev)
    assert f"OAuth client {pk} deleted" in caplog.text
    assert "None" not in caplog.text


def test_loopback_redirect_over_http_works_for_a_native_app(dev):
    application, _ = make_client(
        dev, client_type="public", redirect_uris=("http://127.0.0.1/callback",)
    )
    assert "http" in application.get_allowed_schemes()
    assert Membership.objects.filter(user=dev).exists()


def test_https_client_does_not_get_http_redirects(dev):
    application, secret = make_client(dev)
    assert application.get_allowed_schemes() == ["https"]
    assert grant(dev, application, secret)["token_type"] == "Bearer"
    assert basic(application.client_id, secret)


def test_developer_registers_a_browser_clients_origins_in_the_portal(client, dev, org):
    client.force_login(dev)
    response = client.post(
        f"/orgs/{org.public_id}/developer/oauth-clients/new/",
        {
            "name": "Browser app",
            "redirect_uris": "https://spa.example.com/cb",
            "client_type": "public",
            "allowed_origins": "https://SPA.example.com\nhttps://spa.example.com",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert Application.objects.get(name="Browser app").allowed_origins == SPA
    assert SPA in response.content.decode()


def test_bad_origin_shows_the_error_on_the_portal_form(client, dev, org):
    client.force_login(dev)
    response = client.post(
        f"/orgs/{org.public_id}/developer/oauth-clients/new/",
        {
            "name": "Browser app",
            "redirect_uris": "https://spa.example.com/cb",
            "client_type": "public",
            "allowed_origins": "https://spa.example.com/app",
        },
    )
    assert response.status_code == 400
    assert "is not an origin" in response.content.decode()
    assert not Application.objects.filter(name="Browser app").exists()


def test_api_sets_and_shows_a_clients_allowed_origins(api, dev):
    application, _ = make_client(dev, client_type="public")
    _, token = issue(dev, scopes=["update.oauth_clients", "read.oauth_clients"])
    response = api.patch(
        f"/api/v1/oauth-clients/{application.pk}",
        {"allowedOrigins": [SPA]},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    assert response.json()["allowedOrigins"] == [SPA]
