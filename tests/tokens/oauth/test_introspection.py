"""/o/introspect/ (RFC 7662): only trusted clients, by POST, and only about their own tokens."""

import pytest
from django.test import Client

from tests.factories import issue, make_client
from tests.tokens.oauth.helpers import basic, grant, post_form
from tokens import secret_format
from tokens.models import AccessToken, Application

pytestmark = pytest.mark.django_db


@pytest.fixture
def trusted(alice):
    """A confidential client of Acme that may introspect, with one token it issued to alice."""
    application, secret = make_client(alice, name="Gateway", allow_introspection=True)
    body = grant(alice, application, secret, scope="read.me read.chats")
    return application, secret, body["access_token"]


def introspect(application, secret, token):
    return post_form("/o/introspect/", {"token": token}, **basic(application.client_id, secret))


def test_client_learns_about_its_own_live_token(trusted):
    application, secret, token = trusted
    response = introspect(application, secret, token)
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == application.client_id
    assert body["username"] == "alice@acme.test"
    assert body["scope"] == "read.me read.chats"
    assert body["exp"] > body["iat"]
    assert response["Cache-Control"] == "no-store"


def test_client_secret_in_the_body_also_authenticates(trusted):
    application, secret, token = trusted
    response = post_form(
        "/o/introspect/",
        {"token": token, "client_id": application.client_id, "client_secret": secret},
    )
    assert response.status_code == 200
    assert response.json()["active"] is True


def test_another_clients_token_is_exactly_inactive(trusted, dev):
    application, secret, _ = trusted
    other, other_secret = make_client(dev, name="Other")
    other_token = grant(dev, other, other_secret)["access_token"]
    response = introspect(application, secret, other_token)
    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_another_organizations_token_is_exactly_inactive(trusted, mallory):
    application, secret, _ = trusted
    globex_client, globex_secret = make_client(mallory, name="Globex app")
    globex_token = grant(mallory, globex_client, globex_secret)["access_token"]
    response = introspect(application, secret, globex_token)
    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_a_personal_token_of_the_same_organization_is_exactly_inactive(trusted, alice):
    application, secret, _ = trusted
    _, personal = issue(alice)
    assert introspect(application, secret, personal).json() == {"active": False}


def test_unknown_token_is_exactly_inactive(trusted):
    application, secret, _ = trusted
    unknown = secret_format.generate(secret_format.OAUTH_TOKEN)
    assert introspect(application, secret, unknown).json() == {"active": False}


def test_revoked_token_is_exactly_inactive(trusted):
    application, secret, token = trusted
    AccessToken.objects.get(token_checksum=secret_format.digest(token)).revoke()
    assert introspect(application, secret, token).json() == {"active": False}


def test_token_of_a_removed_member_is_exactly_inactive(trusted, alice, org):
    application, secret, token = trusted
    alice.memberships.filter(organization=org).delete()
    assert introspect(application, secret, token).json() == {"active": False}


def test_get_is_refused_with_405(trusted):
    from django.test import Client

    application, secret, token = trusted
    response = Client().get(f"/o/introspect/?token={token}", **basic(application.client_id, secret))
    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"
    assert "active" not in response.json()


def test_client_without_introspection_permission_is_refused(trusted, dev):
    _, _, token = trusted
    plain, plain_secret = make_client(dev, name="Plain")
    response = introspect(plain, plain_secret, token)
    assert response.status_code == 403
    assert response.json()["error"] == "unauthorized_client"
    assert "active" not in response.json()


def test_wrong_client_secret_is_refused_with_401(trusted):
    application, _, token = trusted
    response = introspect(application, "x" * 128, token)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")


def test_bearer_token_with_introspection_scope_is_no_way_in(trusted, alice):
    _, _, token = trusted
    response = post_form("/o/introspect/", {"token": token}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401


def test_public_client_cannot_introspect_even_if_flagged(trusted, dev):
    _, _, token = trusted
    public, _ = make_client(dev, name="SPA", client_type="public")
    Application.objects.filter(pk=public.pk).update(allow_introspection=True)
    response = post_form(
        "/o/introspect/", {"token": token, "client_id": public.client_id, "client_secret": ""}
    )
    assert response.status_code == 401


def test_missing_token_parameter_is_a_400(trusted):
    application, secret, _ = trusted
    response = post_form("/o/introspect/", {}, **basic(application.client_id, secret))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_options_on_introspection_answers_like_the_other_oauth_endpoints():
    client = Client()
    answers = {
        path: client.options(path) for path in ("/o/token/", "/o/revoke_token/", "/o/introspect/")
    }
    assert {path: r.status_code for path, r in answers.items()} == dict.fromkeys(answers, 200)
    assert answers["/o/introspect/"]["Allow"] == answers["/o/token/"]["Allow"] == "POST, OPTIONS"


def test_options_on_introspection_from_a_browser_opens_no_cors():
    # Introspection is server to server: a preflight is answered, but allows no origin.
    response = Client().options(
        "/o/introspect/",
        HTTP_ORIGIN="https://spa.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response
