"""Authorization code + PKCE at /o/authorize/ and /o/token/: consent, binding, effective scopes."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from accounts.models import Membership
from tests.factories import bearer, make_client
from tests.tokens.oauth.helpers import (
    REDIRECT_URI,
    authorize_query,
    code_from,
    consent,
    exchange,
    grant,
    pkce,
)
from tokens import secret_format
from tokens.models import AccessToken, Application, AuditEvent

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_log_in_first(dev):
    application, _ = make_client(dev)
    _, challenge = pkce()
    response = Client().get("/o/authorize/?" + authorize_query(application, challenge))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/o/authorize/")


def test_consent_page_lists_requested_scopes_in_words_from_the_catalog(dev):
    application, _ = make_client(dev)
    browser = Client()
    browser.force_login(dev)
    response = browser.get(
        "/o/authorize/?" + authorize_query(application, pkce()[1], scope="read.me read.chats")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Authorize Reporting app?" in page
    assert "Read your own user profile and organizations" in page
    assert "List conversations" in page
    assert "Acme" in page


def test_consent_page_names_scopes_beyond_the_users_role_as_not_granted(agent, dev):
    application, _ = make_client(dev)
    browser = Client()
    browser.force_login(agent)
    response = browser.get(
        "/o/authorize/?" + authorize_query(application, pkce()[1], scope="read.me delete.chats")
    )
    assert response.status_code == 200
    assert [s.name for s in response.context["granted"]] == ["read.me"]
    assert [s.name for s in response.context["refused"]] == ["delete.chats"]
    assert response.context["form"].initial["scope"] == "read.me"


def test_member_of_another_organization_cannot_authorize_the_client(dev, mallory):
    application, _ = make_client(dev)
    browser = Client()
    browser.force_login(mallory)
    response = browser.get("/o/authorize/?" + authorize_query(application, pkce()[1]))
    assert response.status_code == 403
    assert "not a member" in response.content.decode()


def test_posted_consent_from_a_non_member_grants_nothing(dev, mallory):
    application, _ = make_client(dev)
    _, challenge = pkce()
    browser = Client()
    browser.force_login(mallory)
    fields = {
        "client_id": application.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "read.me",
        "response_type": "code",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "allow": "Authorize",
    }
    response = browser.post("/o/authorize/", fields)
    assert response.status_code == 403
    assert not AccessToken.objects.filter(application=application).exists()


def test_unknown_redirect_uri_is_refused_without_redirecting(dev):
    application, _ = make_client(dev)
    browser = Client()
    browser.force_login(dev)
    response = browser.get(
        "/o/authorize/?"
        + authorize_query(application, pkce()[1], redirect_uri="https://evil.example/cb")
    )
    assert response.status_code == 400
    assert "Authorization failed" in response.content.decode()


def test_authorize_without_pkce_is_refused(dev):
    application, _ = make_client(dev)
    browser = Client()
    browser.force_login(dev)
    query = authorize_query(application, "x").replace(
        "&code_challenge=x&code_challenge_method=S256", ""
    )
    response = browser.get("/o/authorize/?" + query)
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["invalid_request"]


def test_cancel_sends_access_denied_back_to_the_client(dev):
    application, _ = make_client(dev)
    response = consent(dev, application, pkce()[1], allow=False)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["xyz"]


def test_approval_redirects_with_a_code_and_the_state(dev):
    application, _ = make_client(dev)
    response = consent(dev, application, pkce()[1])
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT_URI + "?")
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["code"] and query["state"] == ["xyz"]


def test_code_is_exchanged_for_a_token_bound_to_client_user_and_organization(dev, org):
    application, secret = make_client(dev)
    body = grant(dev, application, secret, scope="read.me read.chats")
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("kw_oat_")
    assert body["refresh_token"].startswith("kw_rt_")
    token = AccessToken.objects.get(token_checksum=secret_format.digest(body["access_token"]))
    assert token.kind == "oauth"
    assert token.application == application
    assert token.user == dev
    assert token.organization == org
    assert token.membership == Membership.objects.get(user=dev, organization=org)
    assert token.created_ip == "203.0.113.9"
    assert token.token == ""  # only the digest is kept


def test_granted_scopes_are_what_was_asked_within_what_the_membership_allows(agent, dev):
    application, secret = make_client(dev)
    body = grant(agent, application, secret, scope="read.me read.chats delete.chats")
    assert body["scope"] == "read.me read.chats"
    token = AccessToken.objects.get(token_checksum=secret_format.digest(body["access_token"]))
    assert token.scope == "read.me read.chats"


def test_a_role_bundle_asked_for_is_cut_to_the_users_role(agent, dev):
    application, secret = make_client(dev)
    body = grant(agent, application, secret, scope="admin")
    assert "delete.chats" not in body["scope"].split()
    assert "read.chats" in body["scope"].split()


def test_nothing_grantable_redirects_with_invalid_scope(guest, dev):
    application, _ = make_client(dev)
    response = consent(guest, application, pkce()[1], scope="delete.webhooks")
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["invalid_scope"]


def test_oauth_token_calls_the_api(api, dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    response = api.get("/api/v1/me", **bearer(body["access_token"]))
    assert response.status_code == 200
    assert response.json()["email"] == "dev@acme.test"


def test_oauth_token_is_refused_scopes_it_was_not_granted(api, dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret, scope="read.me")
    response = api.get("/api/v1/conversations", **bearer(body["access_token"]))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_wrong_code_verifier_is_refused(dev):
    application, secret = make_client(dev)
    code = code_from(consent(dev, application, pkce()[1]))
    response = exchange(application, secret, code, pkce()[0])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.filter(application=application).exists()


def test_code_works_once(dev):
    application, secret = make_client(dev)
    verifier, challenge = pkce()
    code = code_from(consent(dev, application, challenge))
    assert exchange(application, secret, code, verifier).status_code == 200
    response = exchange(application, secret, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_of_a_member_removed_before_the_exchange_is_refused(dev, agent, org):
    application, secret = make_client(dev)
    verifier, challenge = pkce()
    code = code_from(consent(agent, application, challenge))
    Membership.objects.filter(user=agent, organization=org).delete()
    response = exchange(application, secret, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_public_client_exchanges_its_code_with_pkce_and_no_secret(api, dev):
    application, secret = make_client(dev, client_type="public")
    assert secret is None
    verifier, challenge = pkce()
    code = code_from(consent(dev, application, challenge))
    response = exchange(application, None, code, verifier)
    assert response.status_code == 200
    assert api.get("/api/v1/me", **bearer(response.json()["access_token"])).status_code == 200


def test_refresh_token_renews_the_grant_and_kills_the_old_access_token(api, dev):
    from tests.tokens.oauth.helpers import basic, post_form

    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    response = post_form(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        **basic(application.client_id, secret),
    )
    assert response.status_code == 200
    renewed = response.json()
    assert (
        AccessToken.objects.get(token_checksum=secret_format.digest(renewed["access_token"])).kind
        == "oauth"
    )
    assert api.get("/api/v1/me", **bearer(renewed["access_token"])).status_code == 200
    old = api.get("/api/v1/me", **bearer(body["access_token"]))
    assert old.status_code == 401
    assert old.json()["code"] == "token_revoked"


def test_issuing_records_the_clients_last_use_and_an_audit_event(dev):
    application, secret = make_client(dev)
    grant(dev, application, secret)
    application.refresh_from_db()
    assert application.last_used_at is not None
    assert AuditEvent.objects.filter(credential_kind="oauth", action="issued", actor=dev).exists()


def test_dots_own_client_management_pages_are_not_served(client, dev):
    client.force_login(dev)
    assert client.get("/o/applications/").status_code == 404
    assert client.get("/o/applications/register/").status_code == 404
    assert client.get("/o/authorized_tokens/").status_code == 404
    assert Application.objects.count() == 0


def test_consent_is_asked_again_even_when_the_client_says_approval_prompt_auto(dev):
    application, secret = make_client(dev)
    grant(dev, application, secret)
    browser = Client()
    browser.force_login(dev)
    response = browser.get(
        "/o/authorize/?" + authorize_query(application, pkce()[1]) + "&approval_prompt=auto"
    )
    assert response.status_code == 200
    assert "Authorize Reporting app?" in response.content.decode()


def test_refresh_is_refused_once_the_user_left_the_organization(dev, agent, org):
    from tests.tokens.oauth.helpers import basic, post_form

    application, secret = make_client(dev)
    body = grant(agent, application, secret)
    Membership.objects.filter(user=agent, organization=org).delete()
    response = post_form(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        **basic(application.client_id, secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_client_credentials_grant_is_not_offered(dev):
    from tests.tokens.oauth.helpers import basic, post_form

    application, secret = make_client(dev)
    response = post_form(
        "/o/token/", {"grant_type": "client_credentials"}, **basic(application.client_id, secret)
    )
    assert response.status_code in (400, 401)
    assert not AccessToken.objects.exists()


def test_deleting_the_creators_account_keeps_the_organizations_client(dev):
    application, _ = make_client(dev)
    dev.delete()
    application.refresh_from_db()
    assert application.created_by is None
