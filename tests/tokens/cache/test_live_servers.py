"""Every write that can change an answer reaches a live server's warm cache (PostgreSQL NOTIFY,
and Redis pub/sub), a server whose listener is cut serves from the database, and a lost
notification never keeps a credential alive past the TTL.

The servers are real gunicorn processes against the test database; the writes happen in
this process, committed (transactional_db), exactly as another worker would make them.
Each case first proves the credential is answered from the server's memory (a cache hit),
then writes, then expects the next request to be refused (or, for changes that only narrow
an answer, to be read from the database again).
"""

import base64
import os
import time

import pytest
from django.db import connection
from django.test import Client

from accounts import services as accounts
from accounts.models import Organization, Role
from bench.live import Server, database_url, redis_reachable
from tests.factories import issue, login_pair, make_api_key, make_client, membership
from tokens import audit
from tokens.api_keys import services as api_key_services
from tokens.login import services as login_services
from tokens.models import AccessToken, AuditEvent, CredentialKind, Kind
from tokens.oauth import services as oauth_services
from tokens.personal import services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TTL = 4  # seconds: short, so the lost-notification case ends quickly
PROPAGATION_DEADLINE = 2.0  # seconds; the notification itself takes milliseconds


@pytest.fixture(scope="module", params=["postgresql", "redis"])
def channel(request, django_db_setup, django_db_blocker):
    """Two single-worker servers per channel: A (unused by most cases) and B, the one warmed."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    redis_url = ""
    if request.param == "redis":
        if not redis_reachable(REDIS_URL):
            if os.environ.get("REQUIRE_REDIS", "").lower() in {"1", "true", "yes"}:
                pytest.fail(
                    f"Redis is unreachable at {REDIS_URL} (REQUIRE_REDIS=1 forbids skipping)"
                )
            pytest.skip(f"Redis is unreachable at {REDIS_URL}")
        redis_url = REDIS_URL
    url = database_url(connection.settings_dict)
    server = Server(database_url=url, redis_url=redis_url, ttl=TTL)
    yield type("Channel", (), {"name": request.param, "redis_url": redis_url, "server": server})
    server.stop()


@pytest.fixture
def server(channel, settings):
    if channel.redis_url:
        settings.REDIS_URL = channel.redis_url  # this process publishes where the server listens
    return channel.server


def _warm(server, authorization, path="/api/v1/me"):
    """Make sure `authorization` is answered from the server's memory."""
    server.wait_until_listening(authorization)
    assert server.get(path, authorization).status_code == 200
    before = server.hits()
    assert server.get(path, authorization).status_code == 200
    assert server.hits() == before + 1, "the credential was not answered from the cache"


def _refused_soon(server, authorization, path="/api/v1/me", deadline=PROPAGATION_DEADLINE):
    """The first answer that is not 200 within `deadline`, and how long it took."""
    started = time.monotonic()
    while True:
        response = server.get(path, authorization)
        elapsed = time.monotonic() - started
        if response.status_code != 200 or elapsed > deadline:
            return response, elapsed


def _bearer(secret):
    return f"Bearer {secret}"


def _basic(key, secret):
    return "Basic " + base64.b64encode(f"{key.key_id}:{secret}".encode()).decode()


def _admin_client():
    from accounts.models import User

    root = User.objects.create_superuser("root@keyward.test", "x-password-1")
    client = Client()
    client.force_login(root)
    return client


# --- credential writes: refused on the next request ------------------------------------------


def test_revoke_is_refused_through_another_process(server, dev):
    token, secret = issue(dev)
    _warm(server, _bearer(secret))
    services.revoke_token(token=token, by=dev)
    response, _ = _refused_soon(server, _bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_rotate_without_grace_is_refused_through_another_process(server, dev):
    token, secret = issue(dev)
    _warm(server, _bearer(secret))
    services.rotate_token(token=token, grace="none", by=dev)
    assert _refused_soon(server, _bearer(secret))[0].status_code == 401


def test_logout_is_refused_through_another_process(server, dev):
    pair = login_pair(dev)
    secret = pair.token.reveal()
    _warm(server, _bearer(secret))
    login_services.log_out(token_id=pair.access_token.pk, by=dev)
    assert _refused_soon(server, _bearer(secret))[0].status_code == 401


def test_session_end_is_refused_through_another_process(server, dev, org):
    pair = login_pair(dev)
    secret = pair.token.reveal()
    _warm(server, _bearer(secret))
    login_services.end_session(
        user=dev, organization=org, session_id=pair.refresh_token.token_family, by=dev
    )
    assert _refused_soon(server, _bearer(secret))[0].status_code == 401


def test_revoke_all_is_refused_through_another_process(server, dev):
    pair = login_pair(dev)
    secret = pair.token.reveal()
    _warm(server, _bearer(secret))
    login_services.revoke_all(user=dev, membership=membership(dev))
    assert _refused_soon(server, _bearer(secret))[0].status_code == 401


def test_oauth_client_delete_is_refused_through_another_process(server, alice):
    application, _ = make_client(alice, client_type="confidential")
    token, secret = issue(alice)
    AccessToken.objects.filter(pk=token.pk).update(kind=Kind.OAUTH, application=application)
    _warm(server, _bearer(secret))
    oauth_services.delete_client(application=application, by=alice)
    response, _ = _refused_soon(server, _bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_oauth_client_secret_regeneration_drops_its_tokens_everywhere(server, alice):
    application, _ = make_client(alice, client_type="confidential")
    token, secret = issue(alice)
    AccessToken.objects.filter(pk=token.pk).update(kind=Kind.OAUTH, application=application)
    _warm(server, _bearer(secret))
    misses = server.misses()
    oauth_services.regenerate_secret(application=application, by=alice)
    time.sleep(0.2)
    assert (
        server.get("/api/v1/me", _bearer(secret)).status_code == 200
    )  # its tokens live on, re-read
    assert server.misses() == misses + 1


def test_api_key_revoke_is_refused_through_another_process(server, alice):
    key, secret = make_api_key(alice, scopes=["read.me"])
    _warm(server, _basic(key, secret))
    api_key_services.revoke_api_key(key=key, by=alice)
    response, _ = _refused_soon(server, _basic(key, secret))
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_api_key_rotate_is_refused_through_another_process(server, alice):
    key, secret = make_api_key(alice, scopes=["read.me"])
    _warm(server, _basic(key, secret))
    api_key_services.rotate_api_key(key=key, grace="none", by=alice)
    assert _refused_soon(server, _basic(key, secret))[0].status_code == 401


# --- people and tenants --------------------------------------------------------------------


def test_member_removal_is_refused_through_another_process(server, alice, agent, org):
    _token, secret = issue(agent)
    _warm(server, _bearer(secret))
    accounts.remove_member(membership=membership(agent), by=alice)
    audit.record(
        organization=org,
        actor=alice,
        action=AuditEvent.Action.MEMBER_REMOVED,
        kind=CredentialKind.MEMBER,
    )
    assert _refused_soon(server, _bearer(secret))[0].status_code == 401


def test_role_change_narrows_the_token_through_another_process(server, alice, agent, org):
    _token, secret = issue(agent, scopes=["read.me", "read.contacts"])
    _warm(server, _bearer(secret), "/api/v1/contacts")
    accounts.update_member(
        membership=membership(agent), by=alice, by_role=Role.ADMIN, role=Role.GUEST
    )
    audit.record(
        organization=org,
        actor=alice,
        action=AuditEvent.Action.MEMBER_CHANGED,
        kind=CredentialKind.MEMBER,
    )
    response, _ = _refused_soon(server, _bearer(secret), "/api/v1/contacts")
    assert response.status_code == 403  # read.contacts is beyond a guest


def test_developer_access_removed_in_the_admin_narrows_the_token(server, dev, org):
    _token, secret = issue(dev, scopes=["read.me", "read.tokens"])
    _warm(server, _bearer(secret), "/api/v1/tokens")
    m = membership(dev)
    response = _admin_client().post(
        f"/admin/accounts/membership/{m.pk}/change/",
        {
            "user": dev.pk,
            "organization": org.pk,
            "role": m.role,
            "developer_access": "",
            "created_at_0": "2026-01-01",
            "created_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302
    assert _refused_soon(server, _bearer(secret), "/api/v1/tokens")[0].status_code == 403


def test_user_deactivated_in_the_admin_is_refused_through_another_process(server, agent):
    _token, secret = issue(agent)
    _warm(server, _bearer(secret))
    response = _admin_client().post(
        f"/admin/accounts/user/{agent.pk}/change/",
        {
            "email": agent.email,
            "name": agent.name or "",
            "is_active": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    response, _ = _refused_soon(server, _bearer(secret))
    assert response.status_code == 401
    assert "deactivated" in response.json()["detail"]


def test_organization_delete_is_refused_through_another_process(server, alice, org, other_org):
    _token, secret = issue(alice)
    _warm(server, _bearer(secret))
    accounts.delete_organization(organization=Organization.objects.get(pk=org.pk))
    audit.record(
        organization=other_org,
        action=AuditEvent.Action.ORGANIZATION_CHANGED,
        kind=CredentialKind.ORGANIZATION,
        detail="deleted organization acme",
    )
    assert _refused_soon(server, _bearer(secret))[0].status_code == 401


def test_group_change_is_read_again_through_another_process(server, alice, org, group):
    _token, secret = issue(alice)
    _warm(server, _bearer(secret))
    misses = server.misses()
    accounts.delete_organization_group(group=group, by=alice)
    audit.record(
        organization=org,
        actor=alice,
        action=AuditEvent.Action.GROUP_DELETED,
        kind=CredentialKind.GROUP,
    )
    time.sleep(0.2)
    assert server.get("/api/v1/me", _bearer(secret)).status_code == 200
    assert server.misses() == misses + 1  # the group it answered with is gone: read again


# --- failure modes ---------------------------------------------------------------------------


def test_a_worker_whose_listener_is_cut_serves_from_the_database_until_it_reconnects(
    server, channel, dev
):
    token, secret = issue(dev)
    _warm(server, _bearer(secret))
    connects = server.metrics().get("keyward_invalidation_listener_connects_total", 0.0)
    _cut_listener(server, channel)
    _until_the_cut_is_noticed(server, connects)
    # A write nobody hears about (no notification at all): only the database knows.
    AccessToken.objects.filter(pk=token.pk).update(
        revoked_at=AccessToken.objects.get(pk=token.pk).created
    )
    response = server.get("/api/v1/me", _bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
    # It reconnects by itself and trusts its (fresh) cache again.
    _other, other_secret = issue(dev)
    _warm(server, _bearer(other_secret))


def test_a_lost_notification_never_outlives_the_ttl(server, dev):
    token, secret = issue(dev)
    _warm(server, _bearer(secret))
    started = time.monotonic()
    AccessToken.objects.filter(pk=token.pk).update(
        revoked_at=AccessToken.objects.get(pk=token.pk).created
    )
    response, _elapsed = _refused_soon(server, _bearer(secret), deadline=TTL + 2)
    assert response.status_code == 401
    assert time.monotonic() - started <= TTL + 1


def test_a_credential_cached_just_before_revocation_is_refused_after_the_notification(server, dev):
    token, secret = issue(dev)
    _warm(server, _bearer(secret))
    services.revoke_token(token=token, by=dev)
    response, elapsed = _refused_soon(server, _bearer(secret), deadline=TTL + 2)
    assert response.status_code == 401
    assert elapsed < TTL / 2  # the notification did it, not the TTL


def _until_the_cut_is_noticed(server, connects_before, timeout=5):
    """Wait until the worker's listener thread has seen its connection drop: it is deaf, or it
    has already reconnected (with an emptied cache). Between the cut and the thread waking on
    the closed socket lie a few milliseconds in which nothing can be known yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        values = server.metrics()
        if values.get("keyward_invalidation_listener_connected", 0.0) != 1.0:
            return
        if values.get("keyward_invalidation_listener_connects_total", 0.0) > connects_before:
            return
        time.sleep(0.01)
    raise AssertionError("the worker never noticed its listener was cut")


def _cut_listener(server, channel):
    if channel.name == "postgresql":
        names = [f"keyward-invalidation-listener-{pid}" for pid in server.worker_pids()]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ANY(%s)",
                [names],
            )
            assert cursor.fetchall(), "no listener connection to cut"
    else:
        import redis

        client = redis.Redis.from_url(channel.redis_url)
        killed = sum(client.client_kill_filter(_type="pubsub", skipme=True) for _ in range(1))
        assert killed, "no subscriber connection to cut"
