"""The two flows the seeds describe, walked end to end through the API (CI runs them on PostgreSQL)."""

import pytest

from tests.factories import bearer
from tests.tokens.login.helpers import later, pair_of, refresh

pytestmark = pytest.mark.django_db


def _me(api, token):
    return api.get("/api/v1/me", **bearer(token))


def test_web1on1_flow_log_in_call_expire_refresh_with_client_id_call_again(api, dev):
    body = pair_of(api, "dev@acme.test")
    assert _me(api, body["token"]).status_code == 200

    with later(hours=24, seconds=1):
        expired = _me(api, body["token"])
        assert expired.status_code == 401
        assert expired.json()["code"] == "token_expired"
        assert 'error="invalid_token"' in expired["WWW-Authenticate"]

        refreshed = refresh(api, body["refreshToken"], client_id="dev@acme.test")
        assert refreshed.status_code == 200
        assert refreshed.json()["scope"] == "bot"
        again = _me(api, refreshed.json()["token"])
        assert again.status_code == 200
        assert again.json()["email"] == "dev@acme.test"


def test_web1on1_flow_refresh_before_expiry_with_the_access_token_as_bearer(api, dev):
    body = pair_of(api, "dev@acme.test")
    with later(hours=23):
        refreshed = refresh(api, body["refreshToken"], access_token=body["token"])
        assert refreshed.status_code == 200
        assert _me(api, refreshed.json()["token"]).status_code == 200
        assert _me(api, body["token"]).status_code == 401


def _sessions(api, token):
    response = api.get("/api/v1/auth/sessions", **bearer(token))
    assert response.status_code == 200
    return response.json()["results"]


def test_qiscus_flow_two_logins_revoke_all_and_logout(api, alice):
    phone = pair_of(api, "alice@acme.test", user_agent="Phone app")
    laptop = pair_of(api, "alice@acme.test", user_agent="Laptop script")

    listed = _sessions(api, phone["token"])
    assert sorted(s["userAgent"] for s in listed) == ["Laptop script", "Phone app"]
    assert [s["userAgent"] for s in listed if s["current"]] == ["Phone app"]

    revoked = api.post("/api/v1/auth/revoke-all", **bearer(phone["token"]))
    assert revoked.status_code == 200
    fresh = revoked.json()
    for old in (phone, laptop):
        assert _me(api, old["token"]).status_code == 401
        assert refresh(api, old["refreshToken"], client_id="alice@acme.test").status_code == 400
    assert _me(api, fresh["token"]).status_code == 200
    assert [s["current"] for s in _sessions(api, fresh["token"])] == [True]

    tablet = pair_of(api, "alice@acme.test", user_agent="Tablet")
    assert len(_sessions(api, fresh["token"])) == 2
    assert api.post("/api/v1/auth/logout", **bearer(tablet["token"])).status_code == 204
    assert _me(api, tablet["token"]).status_code == 401
    assert _me(api, fresh["token"]).status_code == 200
    assert len(_sessions(api, fresh["token"])) == 1
