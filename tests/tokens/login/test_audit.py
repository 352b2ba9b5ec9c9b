"""Every login write leaves an audit event: issued, rotated, revoked, and the password change."""

import pytest

from accounts.models import Role
from tests.factories import PASSWORD, bearer, make_member
from tests.tokens.login.helpers import pair_of, refresh
from tokens import secret_format
from tokens.models import AccessToken, AuditEvent, RefreshToken

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-42"


def _events(action, **filters):
    return AuditEvent.objects.filter(action=action, credential_kind="login", **filters)


def _token_id(pair):
    return AccessToken.objects.get(token_checksum=secret_format.digest(pair["token"])).pk


def test_a_login_is_audited_as_issued(api, alice, org):
    pair = pair_of(api, "alice@acme.test")
    event = _events(AuditEvent.Action.ISSUED).get()
    assert (event.organization, event.actor, event.credential_id) == (org, alice, _token_id(pair))


def test_a_refresh_is_audited_as_rotated(api, alice):
    pair = pair_of(api, "alice@acme.test")
    fresh = refresh(api, pair["refreshToken"], client_id="alice@acme.test").json()
    event = _events(AuditEvent.Action.ROTATED).get()
    assert event.credential_id == _token_id(fresh)


def test_a_logout_is_audited_as_revoked(api, alice):
    pair = pair_of(api, "alice@acme.test")
    assert api.post("/api/v1/auth/logout", **bearer(pair["token"])).status_code == 204
    event = _events(AuditEvent.Action.REVOKED).get()
    assert (event.credential_id, event.detail, event.actor) == (_token_id(pair), "logout", alice)


def test_a_revoke_is_audited_as_revoked(api, alice):
    pair = pair_of(api, "alice@acme.test")
    other = pair_of(api, "alice@acme.test")
    response = api.post(
        "/api/v1/auth/revoke",
        {"token": other["refreshToken"]},
        format="json",
        **bearer(pair["token"]),
    )
    assert response.status_code == 204
    event = _events(AuditEvent.Action.REVOKED).get()
    assert (event.credential_id, event.detail) == (_token_id(other), "revoked by its user")


def test_revoke_all_audits_each_ended_session_and_the_new_login(api, alice):
    pairs = [pair_of(api, "alice@acme.test") for _ in range(2)]
    assert api.post("/api/v1/auth/revoke-all", **bearer(pairs[0]["token"])).status_code == 200
    revoked = _events(AuditEvent.Action.REVOKED, detail="revoke-all")
    assert sorted(revoked.values_list("credential_id", flat=True)) == sorted(map(_token_id, pairs))
    assert _events(AuditEvent.Action.ISSUED).count() == 3


def test_ending_a_session_in_the_portal_is_audited_as_revoked(client, api, alice, org):
    pair = pair_of(api, "alice@acme.test")
    family = RefreshToken.objects.get(
        token_checksum=secret_format.digest(pair["refreshToken"])
    ).token_family
    client.force_login(alice)
    assert client.post(f"/orgs/{org.public_id}/sessions/{family}/end/").status_code == 302
    event = _events(AuditEvent.Action.REVOKED).get()
    assert (event.credential_id, event.ip) == (_token_id(pair), "127.0.0.1")


def _change_password(client, org, *, end_others):
    data = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    if end_others:
        data["end_other_sessions"] = "on"
    return client.post(f"/orgs/{org.public_id}/account/password/", data)


def test_a_password_change_is_audited_in_every_organization_of_the_user(
    client, alice, org, other_org
):
    make_member(other_org, "alice@acme.test", Role.AGENT)
    client.force_login(alice)
    assert _change_password(client, org, end_others=False).status_code == 302
    events = _events(AuditEvent.Action.ROTATED, detail="password changed")
    assert sorted(e.organization_id for e in events) == sorted([org.pk, other_org.pk])
    assert {(e.actor, e.credential_id, e.credential_last4) for e in events} == {(alice, None, "")}


def test_a_password_change_is_audited_only_where_the_user_is_a_member(client, alice, org, mallory):
    client.force_login(alice)
    assert _change_password(client, org, end_others=False).status_code == 302
    assert not _events(AuditEvent.Action.ROTATED).exclude(organization=org).exists()


def test_a_password_change_that_ends_sessions_audits_each_of_them(client, api, alice, org):
    pair = pair_of(api, "alice@acme.test")
    client.force_login(alice)
    assert _change_password(client, org, end_others=True).status_code == 302
    event = _events(AuditEvent.Action.REVOKED).get()
    assert (event.credential_id, event.detail) == (_token_id(pair), "password changed")
