import datetime
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from tests.factories import bearer, issue, membership, terminate_backend
from tokens.models import AccessToken
from tokens.personal import services

pytestmark = pytest.mark.django_db


def _later(**delta):
    return mock.patch(
        "tokens.bearer.authentication.clock",
        return_value=(timezone.now() + datetime.timedelta(**delta)).timestamp(),
    )


def test_valid_token_authenticates(api, dev):
    _token, secret = issue(dev)
    response = api.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 200
    assert response.json()["email"] == "dev@acme.test"
    assert response.json()["credential"] == "personal"


def test_bad_checksum_is_refused_before_any_query(api, dev):
    _token, secret = issue(dev)
    mistyped = secret[:-1] + ("a" if secret[-1] != "a" else "b")
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/me", **bearer(mistyped))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert len(queries) == 0


def test_scope_checked_request_costs_exactly_one_query(api, dev):
    token, secret = issue(dev, scopes=["read.tokens"])
    AccessToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now()
    )  # no last-used write due
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/tokens", **bearer(secret))
    assert response.status_code == 200
    auth_queries = [q for q in queries if '"token_checksum" = ' in q["sql"]]
    assert len(auth_queries) == 1
    # the list itself: one count and one page query; authentication adds exactly one
    assert len(queries) == 3


def test_me_with_token_costs_auth_query_plus_view_queries(api, dev):
    token, secret = issue(dev)
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        api.get("/api/v1/me", **bearer(secret))
    assert len([q for q in queries if '"token_checksum" = ' in q["sql"]]) == 1


def test_last_used_is_written_at_most_once_a_minute(api, dev):
    token, secret = issue(dev)
    api.get("/api/v1/me", **bearer(secret), REMOTE_ADDR="10.1.2.3")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and token.last_used_ip == "10.1.2.3"
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            api.get("/api/v1/me", **bearer(secret))
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]
    token.refresh_from_db()
    assert token.last_used_at == first
    with _later(seconds=61):
        api.get("/api/v1/me", **bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at > first


def test_expired_token_is_refused_with_token_expired(api, dev):
    _token, secret = issue(dev, expires_at=timezone.now() + datetime.timedelta(days=7))
    with _later(days=8):
        response = api.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_revoked_token_is_refused_with_token_revoked(api, dev):
    token, secret = issue(dev)
    services.revoke_token(token=token, by=dev)
    response = api.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_inactive_owner_makes_the_token_invalid(api, dev):
    _token, secret = issue(dev)
    dev.is_active = False
    dev.save()
    response = api.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_removed_member_token_is_invalid_on_the_next_request(api, dev, org):
    _token, secret = issue(dev)
    membership(dev, org).delete()
    response = api.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_demoted_admin_loses_admin_only_scopes_on_the_next_request(api, alice, org):
    _token, secret = issue(alice, scopes=["read.me", "read.tokens"])
    assert api.get("/api/v1/tokens", **bearer(secret)).status_code == 200
    m = membership(alice, org)
    m.role, m.developer_access = Role.AGENT, False
    m.save()
    response = api.get("/api/v1/tokens", **bearer(secret))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200


def test_rotated_token_old_secret_works_inside_grace_period_only(api, dev):
    token, old_secret = issue(dev)
    issued = services.rotate_token(token=token, grace="1h", by=dev)
    new_secret = issued.secret.reveal()
    assert api.get("/api/v1/me", **bearer(old_secret)).status_code == 200
    assert api.get("/api/v1/me", **bearer(new_secret)).status_code == 200
    with _later(hours=1, seconds=1):
        old = api.get("/api/v1/me", **bearer(old_secret))
        new = api.get("/api/v1/me", **bearer(new_secret))
    assert old.status_code == 401
    assert old.json()["code"] == "token_revoked"
    assert new.status_code == 200


def test_rotation_without_grace_kills_the_old_secret_at_once(api, dev):
    token, old_secret = issue(dev)
    services.rotate_token(token=token, grace="none", by=dev)
    assert api.get("/api/v1/me", **bearer(old_secret)).json()["code"] == "token_revoked"


def test_token_in_query_string_is_never_accepted(api, dev):
    _token, secret = issue(dev)
    response = api.get(f"/api/v1/me?access_token={secret}")
    # RFC 6750 §3.1 (issue 11, item 7): a malformed request, 400 — it was 401 before.
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


def test_refresh_token_presented_as_bearer_is_refused(api):
    from tokens import secret_format

    response = api.get("/api/v1/me", **bearer(secret_format.generate(secret_format.REFRESH_TOKEN)))
    assert response.status_code == 401
    assert "refresh token" in response.json()["detail"]


def test_missing_scope_is_403_naming_it_in_body_and_challenge(api, dev):
    _token, secret = issue(dev, scopes=["read.me"])
    response = api.get("/api/v1/tokens", **bearer(secret))
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "insufficient_scope"
    assert body["missingScopes"] == ["read.tokens"]
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert 'scope="read.tokens"' in response["WWW-Authenticate"]


def test_repr_of_token_and_principal_never_show_the_secret(api, dev):
    token, secret = issue(dev)
    assert secret not in repr(token) and secret not in str(token)
    assert token.token == ""


def test_mistyped_oauth_token_is_refused_before_any_query(api):
    from tokens import secret_format

    raw = secret_format.generate(secret_format.OAUTH_TOKEN)
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/me", **bearer(raw[:-2] + "zz"))
    assert response.status_code == 401
    assert len(queries) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dead_persistent_connection_is_replaced_without_failing_the_request(api, dev):
    """The lookup stands in for Django's per-request health check, so it must heal like one."""
    from django.db import connections

    _token, secret = issue(dev)
    db = connections["default"]
    db.ensure_connection()
    terminate_backend(db.connection.info.backend_pid)
    db.health_check_done = False  # as at the start of a new request
    response = api.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_healthy_connection_is_judged_without_a_round_trip():
    from django.db import connections

    db = connections["default"]
    db.ensure_connection()
    raw = db.connection
    sent = []
    real_execute = raw.execute
    raw.execute = lambda *args, **kwargs: sent.append(args) or real_execute(*args, **kwargs)
    try:
        db.health_check_done = False  # as at the start of a new request
        db.close_if_health_check_failed()
        assert db.connection is raw  # kept
        assert sent == []  # and nothing was asked of the server
    finally:
        del raw.execute


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_by_the_server_is_healed_before_a_warm_requests_first_query(
    api, dev, cache_on
):
    """No lookup stands in for the health check when the credential comes from memory."""
    from django.db import connections

    _token, secret = issue(dev)
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200  # now warm
    db = connections["default"]
    db.ensure_connection()
    pid = db.connection.info.backend_pid
    terminate_backend(pid)
    _until_gone(pid)  # between requests: the server has said goodbye…
    _until_readable(db.connection.pgconn.socket)  # …and its goodbye has reached us
    db.health_check_done = False  # as at the start of a new request (the test client skips it)
    response = api.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 200
    assert response.json()["email"] == dev.email  # the view's own query ran, on a new connection


def _until_gone(pid, timeout=5.0):
    import time

    from tests.factories import other_connection

    deadline = time.monotonic() + timeout
    with other_connection() as other:
        while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, "the backend never ended"
            time.sleep(0.01)


def _until_readable(fd, timeout=5.0):
    """A loaded machine may deliver the server's last words a moment after its backend is gone
    from pg_stat_activity; the check judges what has arrived, so wait for it."""
    import select

    readable, _, _ = select.select([fd], [], [], timeout)
    assert readable, "the server's goodbye never arrived"
