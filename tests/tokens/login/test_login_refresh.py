"""POST /api/v1/auth/token with a refresh token: rotation, reuse detection, and every refusal."""

import pytest

from accounts.models import Membership, Role
from tests.factories import bearer, issue, login_pair
from tests.tokens.login.helpers import later, pair_of, refresh
from tokens import secret_format
from tokens.models import AccessToken, AuditEvent, RefreshToken

pytestmark = pytest.mark.django_db


def _family(raw_refresh):
    return RefreshToken.objects.get(token_checksum=secret_format.digest(raw_refresh)).token_family


def _me(api, token):
    return api.get("/api/v1/me", **bearer(token))


def test_refresh_with_the_access_token_as_bearer_gives_a_new_pair(api, alice):
    old = pair_of(api, "alice@acme.test")
    response = refresh(api, old["refreshToken"], access_token=old["token"])
    assert response.status_code == 200
    new = response.json()
    assert new["token"] != old["token"] and new["refreshToken"] != old["refreshToken"]
    assert new["scope"] == "admin"
    assert _me(api, new["token"]).status_code == 200


def test_refresh_with_client_id_and_no_authorization(api, alice):
    old = pair_of(api, "alice@acme.test")
    response = refresh(api, old["refreshToken"], client_id="alice@acme.test")
    assert response.status_code == 200
    assert _me(api, response.json()["token"]).status_code == 200


def test_client_id_is_compared_without_case(api, alice):
    old = pair_of(api, "alice@acme.test")
    assert refresh(api, old["refreshToken"], client_id="ALICE@acme.test").status_code == 200


def test_a_refresh_keeps_the_session_and_kills_the_old_pair(api, alice):
    old = pair_of(api, "alice@acme.test")
    new = refresh(api, old["refreshToken"], client_id="alice@acme.test").json()
    assert _family(new["refreshToken"]) == _family(old["refreshToken"])
    response = _me(api, old["token"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_a_refresh_is_audited_as_a_rotation(api, alice, org):
    old = pair_of(api, "alice@acme.test")
    new = refresh(api, old["refreshToken"], client_id="alice@acme.test").json()
    event = AuditEvent.objects.get(action=AuditEvent.Action.ROTATED)
    assert event.organization == org and event.credential_last4 == new["token"][-4:]


def test_the_new_access_token_records_where_the_refresh_came_from(api, alice):
    old = pair_of(api, "alice@acme.test", user_agent="Phone app 1.0")
    new = refresh(
        api, old["refreshToken"], client_id="alice@acme.test", REMOTE_ADDR="10.9.9.9"
    ).json()
    token = AccessToken.objects.get(token_checksum=secret_format.digest(new["token"]))
    assert token.created_ip == "10.9.9.9"
    assert token.user_agent == "Phone app 1.0"  # kept when the refresh sends none


def test_without_client_id_or_bearer_the_refresh_asks_for_one(api, alice):
    old = pair_of(api, "alice@acme.test")
    response = refresh(api, old["refreshToken"])
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert "clientId" in response.json()["detail"]


def test_someone_elses_client_id_is_refused(api, alice, dev):
    old = pair_of(api, "alice@acme.test")
    response = refresh(api, old["refreshToken"], client_id="dev@acme.test")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_grant"
    assert _me(api, old["token"]).status_code == 200


def test_the_bearer_must_be_the_refresh_tokens_own_access_token(api, alice):
    first = pair_of(api, "alice@acme.test")
    second = pair_of(api, "alice@acme.test")
    response = refresh(api, first["refreshToken"], access_token=second["token"])
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_grant"
    assert "Authorization header" in response.json()["detail"]


def test_a_personal_token_as_bearer_cannot_refresh(api, alice):
    pair = pair_of(api, "alice@acme.test")
    _token, secret = issue(alice)
    response = refresh(api, pair["refreshToken"], access_token=secret)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_grant"


def test_an_expired_bearer_answers_token_expired_and_client_id_still_works(api, alice):
    old = pair_of(api, "alice@acme.test")
    with later(hours=25):
        response = refresh(api, old["refreshToken"], access_token=old["token"])
        assert response.status_code == 401
        assert response.json()["code"] == "token_expired"
        assert refresh(api, old["refreshToken"], client_id="alice@acme.test").status_code == 200


def test_an_access_token_sent_as_refresh_token_is_refused(api, alice):
    pair = pair_of(api, "alice@acme.test")
    response = refresh(api, pair["token"], client_id="alice@acme.test")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_grant"
    assert "access token" in response.json()["detail"]


def test_a_mistyped_refresh_token_is_refused_before_the_database(
    api, alice, django_assert_max_num_queries
):
    pair = pair_of(api, "alice@acme.test")
    mistyped = pair["refreshToken"][:-1] + ("a" if pair["refreshToken"][-1] != "a" else "b")
    with django_assert_max_num_queries(0):
        response = refresh(api, mistyped, client_id="alice@acme.test")
    assert response.status_code == 400
    assert "checksum" in response.json()["detail"]


def test_an_unknown_refresh_token_is_refused(api, alice):
    response = refresh(
        api, secret_format.generate(secret_format.REFRESH_TOKEN), client_id="alice@acme.test"
    )
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_grant", "detail": "The refresh token is not valid."}


def test_an_expired_refresh_token_says_so(api, alice):
    pair = pair_of(api, "alice@acme.test")
    with later(days=31):
        response = refresh(api, pair["refreshToken"], client_id="alice@acme.test")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_grant"
    assert "expired" in response.json()["detail"]


def test_the_refresh_token_lives_thirty_days_from_its_issue(api, alice):
    pair = pair_of(api, "alice@acme.test")
    with later(days=29):
        assert refresh(api, pair["refreshToken"], client_id="alice@acme.test").status_code == 200


def test_a_revoked_refresh_token_says_its_session_was_ended(api, alice):
    pair = pair_of(api, "alice@acme.test")
    assert api.post("/api/v1/auth/logout", **bearer(pair["token"])).status_code == 204
    response = refresh(api, pair["refreshToken"], client_id="alice@acme.test")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_grant"
    assert "revoked" in response.json()["detail"]


def test_replaying_a_rotated_refresh_token_fails_and_kills_the_pair_issued_from_it(api, alice):
    first = pair_of(api, "alice@acme.test")
    second = refresh(api, first["refreshToken"], client_id="alice@acme.test").json()
    with later(seconds=10):
        replay = refresh(api, first["refreshToken"], client_id="alice@acme.test")
        assert replay.status_code == 400
        assert replay.json()["code"] == "invalid_grant"
        assert "already used" in replay.json()["detail"]
        killed = _me(api, second["token"])
        assert killed.status_code == 401
        assert killed.json()["code"] == "token_revoked"
        after = refresh(api, second["refreshToken"], client_id="alice@acme.test")
        assert after.status_code == 400 and after.json()["code"] == "invalid_grant"
    assert not RefreshToken.objects.filter(
        token_family=_family(first["refreshToken"]), revoked__isnull=True
    ).exists()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.REVOKED, detail__contains="reused"
    ).exists()


def test_replay_ends_only_that_session(api, alice):
    other = pair_of(api, "alice@acme.test")
    first = pair_of(api, "alice@acme.test")
    refresh(api, first["refreshToken"], client_id="alice@acme.test")
    with later(seconds=10):
        refresh(api, first["refreshToken"], client_id="alice@acme.test")
        assert _me(api, other["token"]).status_code == 200


def test_a_duplicate_from_the_same_moment_is_refused_without_ending_the_session(api, alice):
    first = pair_of(api, "alice@acme.test")
    second = refresh(api, first["refreshToken"], client_id="alice@acme.test").json()
    duplicate = refresh(api, first["refreshToken"], client_id="alice@acme.test")
    assert duplicate.status_code == 400
    assert duplicate.json()["code"] == "invalid_grant"
    assert "concurrent" in duplicate.json()["detail"]
    assert _me(api, second["token"]).status_code == 200


def test_a_refresh_never_widens_scope_when_the_member_is_promoted(api, agent):
    pair = pair_of(api, "agent@acme.test")
    Membership.objects.filter(user=agent).update(role=Role.ADMIN)
    body = refresh(api, pair["refreshToken"], client_id="agent@acme.test").json()
    assert body["scope"] == "agent"


def test_a_refresh_narrows_scope_when_the_member_is_demoted(api, alice):
    pair = pair_of(api, "alice@acme.test")
    Membership.objects.filter(user=alice).update(role=Role.GUEST)
    body = refresh(api, pair["refreshToken"], client_id="alice@acme.test").json()
    assert body["scope"] == "guest"
    assert (
        AccessToken.objects.get(token_checksum=secret_format.digest(body["token"])).scope == "guest"
    )


def test_a_removed_member_cannot_refresh(api, agent):
    pair = pair_of(api, "agent@acme.test")
    Membership.objects.filter(user=agent).delete()
    response = refresh(api, pair["refreshToken"], client_id="agent@acme.test")
    assert response.status_code == 400
    assert "no longer a member" in response.json()["detail"]


def test_a_deactivated_user_cannot_refresh(api, agent):
    pair = pair_of(api, "agent@acme.test")
    agent.is_active = False
    agent.save()
    response = refresh(api, pair["refreshToken"], client_id="agent@acme.test")
    assert response.status_code == 400
    assert "deactivated" in response.json()["detail"]


def test_a_service_account_refreshes_with_its_email_as_client_id(api, bot):
    pair = login_pair(bot)
    raw = pair.refresh_secret.reveal()
    response = refresh(api, raw, client_id="bot@acme.test")
    assert response.status_code == 200
    assert response.json()["scope"] == "bot"
    assert _me(api, response.json()["token"]).json()["isServiceAccount"] is True
