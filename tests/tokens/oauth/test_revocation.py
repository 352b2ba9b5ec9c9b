"""/o/revoke_token/ (RFC 7009): a client revokes its own tokens, never another client's."""

import pytest

from tests.factories import bearer, make_client
from tests.tokens.oauth.helpers import basic, grant, post_form
from tokens import secret_format
from tokens.models import AccessToken, AuditEvent, RefreshToken

pytestmark = pytest.mark.django_db


def test_client_revokes_its_access_token_and_it_answers_token_revoked(api, dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    response = post_form(
        "/o/revoke_token/",
        {"token": body["access_token"], "token_type_hint": "access_token"},
        **basic(application.client_id, secret),
    )
    assert response.status_code == 200
    token = AccessToken.objects.get(token_checksum=secret_format.digest(body["access_token"]))
    assert token.revoked_at is not None
    after = api.get("/api/v1/me", **bearer(body["access_token"]))
    assert after.status_code == 401
    assert after.json()["code"] == "token_revoked"


def test_revoking_the_refresh_token_also_kills_the_access_token(api, dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    response = post_form(
        "/o/revoke_token/", {"token": body["refresh_token"]}, **basic(application.client_id, secret)
    )
    assert response.status_code == 200
    assert RefreshToken.objects.get(application=application).revoked is not None
    assert api.get("/api/v1/me", **bearer(body["access_token"])).status_code == 401


def test_client_cannot_revoke_another_clients_token(api, dev):
    mine, mine_secret = make_client(dev, name="Mine")
    theirs, theirs_secret = make_client(dev, name="Theirs")
    body = grant(dev, theirs, theirs_secret)
    response = post_form(
        "/o/revoke_token/", {"token": body["access_token"]}, **basic(mine.client_id, mine_secret)
    )
    assert response.status_code == 200  # RFC 7009 §2.2: no hint whether the token exists
    assert (
        AccessToken.objects.get(
            token_checksum=secret_format.digest(body["access_token"])
        ).revoked_at
        is None
    )
    assert api.get("/api/v1/me", **bearer(body["access_token"])).status_code == 200


def test_revocation_by_the_client_is_audited(dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    post_form(
        "/o/revoke_token/", {"token": body["access_token"]}, **basic(application.client_id, secret)
    )
    assert (
        AuditEvent.objects.filter(
            action="revoked", credential_kind="oauth", detail__contains="RFC 7009"
        ).count()
        == 1
    )
