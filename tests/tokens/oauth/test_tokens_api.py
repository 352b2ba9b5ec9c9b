"""`/api/v1/oauth-tokens`: the caller's grants to OAuth clients; only the grantor revokes (Zendesk Chat)."""

import pytest

from tests.factories import bearer, issue, make_client
from tests.tokens.oauth.helpers import grant
from tokens import secret_format
from tokens.models import AccessToken, AuditEvent, RefreshToken

pytestmark = pytest.mark.django_db

TOKEN_SCOPES = ("read.oauth_tokens", "delete.oauth_tokens")


def caller(user, scopes=TOKEN_SCOPES):
    return bearer(issue(user, scopes=scopes)[1])


def row(body):
    return AccessToken.objects.get(token_checksum=secret_format.digest(body["access_token"]))


def test_list_shows_my_grants_with_client_scopes_and_dates(api, dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret, scope="read.me read.chats")
    response = api.get("/api/v1/oauth-tokens", **caller(dev))
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["id"] == row(body).pk
    assert item["client"] == "Reporting app"
    assert item["clientId"] == application.client_id
    assert item["scopes"] == ["read.me", "read.chats"]
    assert item["createdAt"] and "lastUsedAt" in item


def test_list_never_shows_a_secret_or_digest(api, dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    text = api.get("/api/v1/oauth-tokens", **caller(dev)).content.decode()
    assert body["access_token"] not in text
    assert body["refresh_token"] not in text
    assert row(body).token_checksum not in text
    assert secret not in text


def test_list_holds_only_my_own_grants(api, dev, alice):
    application, secret = make_client(dev)
    grant(alice, application, secret)
    response = api.get("/api/v1/oauth-tokens", **caller(dev))
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_list_leaves_out_personal_tokens(api, dev):
    response = api.get("/api/v1/oauth-tokens", **caller(dev))
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_i_revoke_my_grant_and_its_token_answers_token_revoked(api, dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    response = api.delete(f"/api/v1/oauth-tokens/{row(body).pk}", **caller(dev))
    assert response.status_code == 204
    assert row(body).revoked_at is not None
    assert RefreshToken.objects.get(application=application).revoked is not None
    after = api.get("/api/v1/me", **bearer(body["access_token"]))
    assert after.status_code == 401
    assert after.json()["code"] == "token_revoked"


def test_revoked_grant_leaves_the_list(api, dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    api.delete(f"/api/v1/oauth-tokens/{row(body).pk}", **caller(dev))
    assert api.get("/api/v1/oauth-tokens", **caller(dev)).json()["count"] == 0


def test_admin_cannot_revoke_a_developers_oauth_token(api, dev, alice):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    response = api.delete(f"/api/v1/oauth-tokens/{row(body).pk}", **caller(alice))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "Only the person who authorized" in response.json()["detail"]
    assert row(body).revoked_at is None
    assert api.get("/api/v1/me", **bearer(body["access_token"])).status_code == 200


def test_admin_can_delete_the_client_instead_which_kills_the_token(api, dev, alice):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    response = api.delete(
        f"/api/v1/oauth-clients/{application.pk}",
        **bearer(issue(alice, scopes=("delete.oauth_clients",))[1]),
    )
    assert response.status_code == 204
    assert not AccessToken.objects.filter(kind="oauth").exists()
    assert api.get("/api/v1/me", **bearer(body["access_token"])).status_code == 401


def test_colleague_without_admin_role_gets_404_for_my_grant(api, dev, org):
    from tests.factories import make_member

    other_dev = make_member(org, "dev2@acme.test", "bot", developer_access=True)
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    response = api.delete(f"/api/v1/oauth-tokens/{row(body).pk}", **caller(other_dev))
    assert response.status_code == 404
    assert row(body).revoked_at is None


def test_outsider_gets_404_for_my_grant(api, dev, mallory):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    assert api.get(f"/api/v1/oauth-tokens/{row(body).pk}", **caller(mallory)).status_code == 404
    assert api.delete(f"/api/v1/oauth-tokens/{row(body).pk}", **caller(mallory)).status_code == 404
    assert row(body).revoked_at is None


def test_revoking_is_audited(api, dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    api.delete(f"/api/v1/oauth-tokens/{row(body).pk}", **caller(dev))
    event = AuditEvent.objects.get(action="revoked", credential_kind="oauth")
    assert event.actor == dev
    assert event.credential_id == row(body).pk
