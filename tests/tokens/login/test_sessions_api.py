"""Qiscus's session management: list, end one, logout, revoke one, revoke all."""

import pytest

from accounts.models import Membership, Organization, Role
from tests.factories import bearer, issue
from tests.tokens.login.helpers import later, pair_of, refresh
from tokens import secret_format
from tokens.models import AccessToken, AuditEvent, RefreshToken

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/auth/sessions"


def _me(api, token):
    return api.get("/api/v1/me", **bearer(token))


def _session_id(raw_refresh):
    return str(
        RefreshToken.objects.get(token_checksum=secret_format.digest(raw_refresh)).token_family
    )


def test_sessions_list_each_login_with_what_people_need_and_no_secret(api, alice):
    phone = pair_of(api, "alice@acme.test", user_agent="Phone app", ip="10.0.0.1")
    pair_of(api, "alice@acme.test", user_agent="Laptop script", ip="10.0.0.2")
    response = api.get(SESSIONS, **bearer(phone["token"]))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    newest, oldest = body["results"]
    assert set(newest) == {
        "id",
        "createdAt",
        "lastUsedAt",
        "ip",
        "userAgent",
        "expiresAt",
        "accessTokenExpiresAt",
        "current",
    }
    assert (newest["userAgent"], newest["ip"], newest["current"]) == (
        "Laptop script",
        "10.0.0.2",
        False,
    )
    assert (oldest["userAgent"], oldest["current"], oldest["id"]) == (
        "Phone app",
        True,
        _session_id(phone["refreshToken"]),
    )
    text = response.content.decode()
    for secret in (phone["token"], phone["refreshToken"]):
        assert secret not in text and secret_format.digest(secret) not in text


def test_a_session_keeps_its_id_and_start_across_refreshes(api, alice):
    first = pair_of(api, "alice@acme.test")
    before = api.get(SESSIONS, **bearer(first["token"])).json()["results"][0]
    second = refresh(api, first["refreshToken"], access_token=first["token"]).json()
    after = api.get(SESSIONS, **bearer(second["token"])).json()["results"]
    assert len(after) == 1
    assert (after[0]["id"], after[0]["createdAt"], after[0]["current"]) == (
        before["id"],
        before["createdAt"],
        True,
    )


def test_sessions_list_only_this_organizations_and_only_mine(api, alice, dev, org):
    labs = Organization.objects.create(name="Acme Labs", slug="acme-labs", group=org.group)
    Membership.objects.create(user=alice, organization=labs, role=Role.ADMIN)
    mine = pair_of(api, "alice@acme.test", organization=org.public_id)
    pair_of(api, "alice@acme.test", organization=labs.public_id)
    pair_of(api, "dev@acme.test")
    results = api.get(SESSIONS, **bearer(mine["token"])).json()["results"]
    assert [s["id"] for s in results] == [_session_id(mine["refreshToken"])]


def test_ended_sessions_are_not_listed(api, alice):
    keep = pair_of(api, "alice@acme.test")
    gone = pair_of(api, "alice@acme.test")
    api.post("/api/v1/auth/logout", **bearer(gone["token"]))
    assert api.get(SESSIONS, **bearer(keep["token"])).json()["count"] == 1


def test_sessions_not_refreshed_for_thirty_days_are_not_listed(api, alice):
    pair_of(api, "alice@acme.test")
    with later(days=31):
        now = pair_of(api, "alice@acme.test")
        results = api.get(SESSIONS, **bearer(now["token"])).json()["results"]
    assert [s["current"] for s in results] == [True]


def test_deleting_a_session_makes_its_access_token_answer_401_at_once(api, alice):
    me = pair_of(api, "alice@acme.test")
    other = pair_of(api, "alice@acme.test")
    response = api.delete(f"{SESSIONS}/{_session_id(other['refreshToken'])}", **bearer(me["token"]))
    assert response.status_code == 204
    killed = _me(api, other["token"])
    assert killed.status_code == 401 and killed.json()["code"] == "token_revoked"
    assert refresh(api, other["refreshToken"], client_id="alice@acme.test").status_code == 400
    assert _me(api, me["token"]).status_code == 200
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.REVOKED, credential_kind="login").count()
        == 1
    )


def test_deleting_someone_elses_session_is_a_404(api, alice, dev):
    mine = pair_of(api, "alice@acme.test")
    theirs = pair_of(api, "dev@acme.test")
    response = api.delete(
        f"{SESSIONS}/{_session_id(theirs['refreshToken'])}", **bearer(mine["token"])
    )
    assert response.status_code == 404
    assert _me(api, theirs["token"]).status_code == 200


def test_deleting_an_unknown_session_is_a_404(api, alice):
    mine = pair_of(api, "alice@acme.test")
    response = api.delete(
        f"{SESSIONS}/00000000-0000-0000-0000-000000000000", **bearer(mine["token"])
    )
    assert response.status_code == 404


def test_logout_ends_only_the_calling_session(api, alice):
    me = pair_of(api, "alice@acme.test")
    other = pair_of(api, "alice@acme.test")
    assert api.post("/api/v1/auth/logout", **bearer(me["token"])).status_code == 204
    assert _me(api, me["token"]).json()["code"] == "token_revoked"
    assert refresh(api, me["refreshToken"], client_id="alice@acme.test").status_code == 400
    assert _me(api, other["token"]).status_code == 200


def test_logout_after_a_refresh_ends_the_refreshed_session(api, alice):
    first = pair_of(api, "alice@acme.test")
    second = refresh(api, first["refreshToken"], access_token=first["token"]).json()
    assert api.post("/api/v1/auth/logout", **bearer(second["token"])).status_code == 204
    assert refresh(api, second["refreshToken"], client_id="alice@acme.test").status_code == 400
    assert not RefreshToken.objects.filter(user=alice, revoked__isnull=True).exists()


def test_revoke_one_by_its_access_token(api, alice):
    me = pair_of(api, "alice@acme.test")
    other = pair_of(api, "alice@acme.test")
    response = api.post(
        "/api/v1/auth/revoke", {"token": other["token"]}, format="json", **bearer(me["token"])
    )
    assert response.status_code == 204
    assert _me(api, other["token"]).status_code == 401
    assert refresh(api, other["refreshToken"], client_id="alice@acme.test").status_code == 400
    assert _me(api, me["token"]).status_code == 200


def test_revoke_one_by_its_refresh_token(api, alice):
    me = pair_of(api, "alice@acme.test")
    other = pair_of(api, "alice@acme.test")
    response = api.post(
        "/api/v1/auth/revoke",
        {"token": other["refreshToken"]},
        format="json",
        **bearer(me["token"]),
    )
    assert response.status_code == 204
    assert _me(api, other["token"]).status_code == 401


def test_revoking_someone_elses_token_is_a_404_and_harms_nothing(api, alice, dev):
    mine = pair_of(api, "alice@acme.test")
    theirs = pair_of(api, "dev@acme.test")
    for raw in (theirs["token"], theirs["refreshToken"], "eyJnot.a.token"):
        response = api.post(
            "/api/v1/auth/revoke", {"token": raw}, format="json", **bearer(mine["token"])
        )
        assert response.status_code == 404
    assert _me(api, theirs["token"]).status_code == 200


def test_revoking_a_personal_token_points_to_the_tokens_api(api, alice):
    mine = pair_of(api, "alice@acme.test")
    _token, secret = issue(alice)
    response = api.post(
        "/api/v1/auth/revoke", {"token": secret}, format="json", **bearer(mine["token"])
    )
    assert response.status_code == 400
    assert response.json()["code"] == "not_a_login_token"
    assert _me(api, secret).status_code == 200


def test_revoke_all_ends_every_session_everywhere_and_returns_a_working_pair(api, alice, org):
    labs = Organization.objects.create(name="Acme Labs", slug="acme-labs", group=org.group)
    Membership.objects.create(user=alice, organization=labs, role=Role.ADMIN)
    me = pair_of(api, "alice@acme.test", organization=org.public_id)
    elsewhere = pair_of(api, "alice@acme.test", organization=labs.public_id)
    response = api.post("/api/v1/auth/revoke-all", **bearer(me["token"]))
    assert response.status_code == 200
    fresh = response.json()
    assert fresh["tokenType"] == "Bearer" and fresh["organization"] == org.public_id
    assert response["Cache-Control"] == "no-store"
    assert _me(api, me["token"]).status_code == 401
    assert _me(api, elsewhere["token"]).status_code == 401
    assert _me(api, fresh["token"]).status_code == 200
    assert refresh(api, fresh["refreshToken"], client_id="alice@acme.test").status_code == 200


def test_revoke_all_leaves_personal_tokens_alone(api, alice):
    me = pair_of(api, "alice@acme.test")
    _token, secret = issue(alice)
    response = api.post("/api/v1/auth/revoke-all", **bearer(me["token"]))
    assert response.status_code == 200
    assert _me(api, me["token"]).status_code == 401  # it did end the sessions
    assert _me(api, secret).status_code == 200


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", SESSIONS),
        ("post", "/api/v1/auth/logout"),
        ("post", "/api/v1/auth/revoke-all"),
        ("post", "/api/v1/auth/revoke"),
    ],
)
def test_a_personal_token_cannot_manage_login_sessions(api, alice, method, path):
    _token, secret = issue(alice, scopes=["read.me"])
    response = getattr(api, method)(
        path, {"token": "x"} if path.endswith("/revoke") else None, format="json", **bearer(secret)
    )
    assert response.status_code == 403
    assert response.json()["code"] == "login_token_required"


def test_revoke_all_with_a_personal_token_issues_nothing(api, alice):
    _token, secret = issue(alice, scopes=["read.me"])
    response = api.post("/api/v1/auth/revoke-all", **bearer(secret))
    assert (response.status_code, response.json()["code"]) == (403, "login_token_required")
    assert not AccessToken.objects.filter(kind="login").exists()
    assert _me(api, secret).status_code == 200


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", SESSIONS),
        ("post", "/api/v1/auth/logout"),
        ("post", "/api/v1/auth/revoke-all"),
        ("post", "/api/v1/auth/revoke"),
        ("delete", f"{SESSIONS}/00000000-0000-0000-0000-000000000000"),
    ],
)
def test_session_endpoints_need_a_credential(api, method, path):
    response = getattr(api, method)(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_portal_session_may_list_and_end_sessions(client, api, alice):
    other = pair_of(api, "alice@acme.test")
    client.force_login(alice)
    listed = client.get(SESSIONS)
    assert listed.status_code == 200
    assert [s["current"] for s in listed.json()["results"]] == [False]
    assert client.delete(f"{SESSIONS}/{_session_id(other['refreshToken'])}").status_code == 204
    assert _me(api, other["token"]).status_code == 401


def test_a_token_in_the_query_string_is_refused_by_revoke(api, alice):
    me = pair_of(api, "alice@acme.test")
    response = api.post(f"/api/v1/auth/revoke?token={me['token']}", **bearer(me["token"]))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
