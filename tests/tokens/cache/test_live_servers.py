"""Every write that can change an answer reaches a live server's warm cache (woken by NOTIFY,
or by its own poll of the invalidation log when every wake-up is lost), a server whose
listener is cut serves from the database, a lost log row never keeps a credential alive past
the TTL, and a write through the API says when every live process has applied it.

The servers are real gunicorn processes against the test database; the writes happen in
this process, committed (transactional_db), exactly as another worker would make them.
Each case first proves the credential is answered from the server's memory (a cache hit),
then writes, then expects the next request to be refused (or, for changes that only narrow
an answer, to be read from the database again).
"""

import base64
import re
import time

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from accounts import services as accounts
from accounts.models import Organization, Role
from bench.live import Server, database_url
from tests.factories import issue, login_pair, make_api_key, make_client, membership
from tokens.api_keys import services as api_key_services
from tokens.login import services as login_services
from tokens.models import AccessToken, Kind
from tokens.oauth import services as oauth_services
from tokens.personal import services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TTL = 4  # seconds: short, so the lost-log-row case ends quickly
PROPAGATION_DEADLINE = 2.0  # seconds; a wake-up takes milliseconds, a poll at most one second
PROPAGATED = re.compile(r"^(\d+)/(\d+) \d+ms$")


@pytest.fixture(scope="module", params=["notify", "poll-only"])
def channel(request, django_db_setup, django_db_blocker):
    """One single-worker server per way of hearing about changes: woken by NOTIFY, or reading
    the log on its own clock only (every wake-up lost, as behind a pooler that cannot LISTEN)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    extra_env = {"CREDENTIAL_INVALIDATION_LISTEN": "false"} if request.param == "poll-only" else {}
    url = database_url(connection.settings_dict)
    server = Server(database_url=url, ttl=TTL, extra_env=extra_env)
    yield type("Channel", (), {"name": request.param, "server": server, "url": url})
    server.stop()


@pytest.fixture
def server(channel):
    return channel.server


def _all_confirmed(response):
    """The write's Keyward-Propagated header says every live process applied it."""
    match = PROPAGATED.match(response.headers.get("Keyward-Propagated", ""))
    assert match, response.headers
    confirmed, live = int(match.group(1)), int(match.group(2))
    assert confirmed == live >= 1, response.headers["Keyward-Propagated"]


def _refused_soon(server, authorization, path="/api/v1/me", deadline=PROPAGATION_DEADLINE):
    """The first answer that is not 200 within `deadline`, and how long it took."""
    started = time.monotonic()
    while True:
        response = server.get(path, authorization)
        elapsed = time.monotonic() - started
        if response.status_code != 200 or elapsed > deadline:
            return response, elapsed


def _read_again_soon(server, authorization, misses, path="/api/v1/me"):
    """Requests keep succeeding, and within the deadline one is read from the database again."""
    deadline = time.monotonic() + PROPAGATION_DEADLINE
    while server.misses() == misses and time.monotonic() < deadline:
        assert server.get(path, authorization).status_code == 200
    assert server.misses() == misses + 1


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
    server.warm(_bearer(secret))
    services.revoke_token(token=token, by=dev)
    response, _ = _refused_soon(server, _bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_rotate_without_grace_is_refused_through_another_process(server, dev):
    token, secret = issue(dev)
    server.warm(_bearer(secret))
    services.rotate_token(token=token, grace="none", by=dev)
    assert _refused_soon(server, _bearer(secret))[0].status_code == 401


def test_logout_is_refused_through_another_process(server, dev):
    pair = login_pair(dev)
    secret = pair.token.reveal()
    server.warm(_bearer(secret))
    login_services.log_out(token_id=pair.access_token.pk, by=dev)
    assert _refused_soon(server, _bearer(secret))[0].status_code == 401


def test_session_end_is_refused_through_another_process(server, dev, org):
    pair = login_pair(dev)
    secret = pair.token.reveal()
    server.warm(_bearer(secret))
    login_services.end_session(
        user=dev, organization=org, session_id=pair.refresh_token.token_family, by=dev
    )
    assert _refused_soon(server, _bearer(secret))[0].status_code == 401


def test_revoke_all_is_refused_through_another_process(server, dev):
    pair = login_pair(dev)
    secret = pair.token.reveal()
    server.warm(_bearer(secret))
    login_services.revoke_all(user=dev, membership=membership(dev))
    assert _refused_soon(server, _bearer(secret))[0].status_code == 401


def test_oauth_client_delete_is_refused_through_another_process(server, alice):
    application, _ = make_client(alice, client_type="confidential")
    token, secret = issue(alice)
    AccessToken.objects.filter(pk=token.pk).update(kind=Kind.OAUTH, application=application)
    server.warm(_bearer(secret))
    oauth_services.delete_client(application=application, by=alice)
    response, _ = _refused_soon(server, _bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_oauth_client_secret_regeneration_drops_its_tokens_everywhere(server, alice):
    application, _ = make_client(alice, client_type="confidential")
    token, secret = issue(alice)
    AccessToken.objects.filter(pk=token.pk).update(kind=Kind.OAUTH, application=application)
    server.warm(_bearer(secret))
    misses = server.misses()
    oauth_services.regenerate_secret(application=application, by=alice)
    _read_again_soon(server, _bearer(secret), misses)  # its tokens live on, re-read


def test_api_key_revoke_is_refused_through_another_process(server, alice):
    key, secret = make_api_key(alice, scopes=["read.me"])
    server.warm(_basic(key, secret))
    api_key_services.revoke_api_key(key=key, by=alice)
    response, _ = _refused_soon(server, _basic(key, secret))
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_api_key_rotate_is_refused_through_another_process(server, alice):
    key, secret = make_api_key(alice, scopes=["read.me"])
    server.warm(_basic(key, secret))
    api_key_services.rotate_api_key(key=key, grace="none", by=alice)
    assert _refused_soon(server, _basic(key, secret))[0].status_code == 401


# --- people and tenants --------------------------------------------------------------------


def test_member_removal_is_refused_through_another_process(server, alice, agent, org):
    _token, secret = issue(agent)
    server.warm(_bearer(secret))
    accounts.remove_member(membership=membership(agent), by=alice)
    assert _refused_soon(server, _bearer(secret))[0].status_code == 401


def test_role_change_narrows_the_token_through_another_process(server, alice, agent, org):
    _token, secret = issue(agent, scopes=["read.me", "read.contacts"])
    server.warm(_bearer(secret), "/api/v1/contacts")
    accounts.update_member(
        membership=membership(agent), by=alice, by_role=Role.ADMIN, role=Role.GUEST
    )
    response, _ = _refused_soon(server, _bearer(secret), "/api/v1/contacts")
    assert response.status_code == 403  # read.contacts is beyond a guest


def test_developer_access_removed_in_the_admin_narrows_the_token(server, dev, org):
    _token, secret = issue(dev, scopes=["read.me", "read.tokens"])
    server.warm(_bearer(secret), "/api/v1/tokens")
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
    server.warm(_bearer(secret))
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
    server.warm(_bearer(secret))
    accounts.delete_organization(organization=Organization.objects.get(pk=org.pk))
    assert _refused_soon(server, _bearer(secret))[0].status_code == 401


def test_group_change_is_read_again_through_another_process(server, alice, org, group):
    _token, secret = issue(alice)
    server.warm(_bearer(secret))
    misses = server.misses()
    accounts.delete_organization_group(group=group, by=alice)
    _read_again_soon(server, _bearer(secret), misses)  # the group it answered with is gone


# --- the three paths that once skipped the announcement ------------------------------------


def test_an_admin_deleting_their_own_organization_through_the_api_is_refused_everywhere(
    server, alice, org
):
    _token, secret = issue(alice, scopes=["read.me", "delete.organizations"])
    server.warm(_bearer(secret))
    response = Client().delete(
        f"/api/v1/organizations/{org.public_id}", HTTP_AUTHORIZATION=_bearer(secret)
    )
    assert response.status_code == 204
    _all_confirmed(response)
    assert server.get("/api/v1/me", _bearer(secret)).status_code == 401  # no waiting needed


def test_a_replayed_oauth_refresh_token_revokes_the_thiefs_access_token_everywhere(server, dev):
    from tests.tokens.oauth.helpers import basic, grant, post_form
    from tokens.oauth import validator

    application, client_secret = make_client(dev)
    first = grant(dev, application, client_secret)

    def refresh(raw):
        return post_form(
            "/o/token/",
            {"grant_type": "refresh_token", "refresh_token": raw},
            **basic(application.client_id, client_secret),
        )

    thief = refresh(first["refresh_token"])
    assert thief.status_code == 200
    stolen = _bearer(thief.json()["access_token"])
    server.warm(stolen)
    time.sleep(validator.CONCURRENT_REFRESH_WINDOW.total_seconds() + 0.2)
    replay = refresh(first["refresh_token"])  # the victim's old token: reuse ends the family
    assert replay.status_code == 400
    _all_confirmed(replay)
    assert server.get("/api/v1/me", stolen).status_code == 401


def test_a_revoke_served_by_a_process_that_cannot_reach_redis_is_refused_everywhere(
    server, channel, dev
):
    writer = Server(
        database_url=channel.url, ttl=TTL, extra_env={"REDIS_URL": "redis://127.0.0.1:1/0"}
    )
    try:
        token, secret = issue(dev, scopes=["read.me"])
        _admin, admin_secret = issue(dev, scopes=["read.me", "delete.tokens"])
        server.warm(_bearer(secret))
        response = writer.session.delete(
            f"{writer.url}/api/v1/tokens/{token.pk}",
            headers={"Authorization": _bearer(admin_secret)},
            timeout=10,
        )
        assert response.status_code == 204
        _all_confirmed(response)
        assert server.get("/api/v1/me", _bearer(secret)).status_code == 401
    finally:
        writer.stop()


def test_a_revoke_through_the_api_answers_when_every_worker_applied_it(server, dev):
    _token, secret = issue(dev, scopes=["read.me", "delete.tokens"])
    victim, victim_secret = issue(dev, scopes=["read.me"])
    server.warm(_bearer(victim_secret))
    response = Client().delete(f"/api/v1/tokens/{victim.pk}", HTTP_AUTHORIZATION=_bearer(secret))
    assert response.status_code == 204
    _all_confirmed(response)
    assert server.get("/api/v1/me", _bearer(victim_secret)).status_code == 401


def _api(method, path, secret, body=None):
    kwargs = {"HTTP_AUTHORIZATION": _bearer(secret)}
    if body is not None:
        kwargs.update(data=body, content_type="application/json")
    return getattr(Client(), method)(path, **kwargs)


def _rotate_token(alice, agent, org):
    token, secret = issue(alice, scopes=["read.me", "update.tokens"])
    return _api("post", f"/api/v1/tokens/{token.pk}/rotate", secret, {"gracePeriod": "none"})


def _rotate_api_key(alice, agent, org):
    key, _ = make_api_key(alice, scopes=["read.me"])
    _t, secret = issue(alice, scopes=["read.me", "update.api_keys"])
    return _api("post", f"/api/v1/api-keys/{key.pk}/rotate", secret, {"gracePeriod": "none"})


def _regenerate_client_secret(alice, agent, org):
    application, _ = make_client(alice, client_type="confidential")
    _t, secret = issue(alice, scopes=["read.me", "update.oauth_clients"])
    return _api("post", f"/api/v1/oauth-clients/{application.pk}/regenerate-secret", secret)


def _change_a_role(alice, agent, org):
    _t, secret = issue(alice, scopes=["read.me", "update.users"])
    return _api("patch", f"/api/v1/users/{agent.pk}", secret, {"role": "guest"})


def _remove_a_member(alice, agent, org):
    _t, secret = issue(alice, scopes=["read.me", "delete.users"])
    return _api("delete", f"/api/v1/users/{agent.pk}", secret)


def _log_out(alice, agent, org):
    pair = login_pair(alice)
    return _api("post", "/api/v1/auth/logout", pair.token.reveal())


@pytest.mark.parametrize(
    "write",
    [
        _rotate_token,
        _rotate_api_key,
        _regenerate_client_secret,
        _change_a_role,
        _remove_a_member,
        _log_out,
    ],
    ids=lambda write: write.__name__.strip("_"),
)
def test_every_credential_write_answers_keyward_propagated(server, write, alice, agent, org):
    server.warm(_bearer(issue(alice)[1]))  # the server follows the log
    response = write(alice, agent, org)
    assert response.status_code in (200, 201, 204), response.content[:300]
    _all_confirmed(response)


def test_the_portal_says_on_how_many_workers_a_delete_took_effect(server, dev, org):
    token, secret = issue(dev)
    server.warm(_bearer(secret))
    client = Client()
    client.force_login(dev)
    url = reverse("token_delete", kwargs={"org_id": org.public_id, "token_id": token.pk})
    page = client.post(url, follow=True)
    assert page.status_code == 200
    assert re.search(r"Revoked on all \d+ workers? in \d+ ms\.", page.content.decode())
    fragment = client.post(
        reverse("token_delete", kwargs={"org_id": org.public_id, "token_id": issue(dev)[0].pk}),
        HTTP_HX_REQUEST="true",
    )
    assert re.search(r"Revoked on all \d+ workers? in \d+ ms\.", fragment.content.decode())
    assert server.get("/api/v1/me", _bearer(secret)).status_code == 401


def test_a_write_that_changes_nothing_cached_carries_no_receipt(server, dev):
    _token, secret = issue(dev, scopes=["read.me", "update.tokens"])
    token, _ = issue(dev, scopes=["read.me"])
    response = Client().patch(
        f"/api/v1/tokens/{token.pk}",
        {"name": "renamed"},
        content_type="application/json",
        HTTP_AUTHORIZATION=_bearer(secret),
    )
    assert response.status_code == 200
    assert "Keyward-Propagated" not in response.headers


# --- failure modes ---------------------------------------------------------------------------


def test_a_worker_whose_listener_is_cut_serves_from_the_database_until_it_reconnects(server, dev):
    token, secret = issue(dev)
    server.warm(_bearer(secret))
    connects = server.metrics().get("keyward_invalidation_listener_connects_total", 0.0)
    _cut_listener(server)
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
    server.warm(_bearer(other_secret))


def test_a_lost_log_row_never_outlives_the_ttl(server, dev):
    token, secret = issue(dev)
    server.warm(_bearer(secret))
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        # The change commits, but its log row is taken back in the same transaction: only the
        # TTL is left to end the cached answer.
        cursor.execute(
            "UPDATE tokens_accesstoken SET revoked_at = created WHERE id = %s", [token.pk]
        )
        cursor.execute("DELETE FROM keyward_invalidation_log WHERE xid = pg_current_xact_id()")
    response, _elapsed = _refused_soon(server, _bearer(secret), deadline=TTL + 2)
    assert response.status_code == 401
    assert time.monotonic() - started <= TTL + 1


def test_a_credential_cached_just_before_revocation_is_refused_after_the_notification(server, dev):
    token, secret = issue(dev)
    server.warm(_bearer(secret))
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


def _cut_listener(server):
    names = [f"keyward-invalidation-listener-{pid}" for pid in server.worker_pids()]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ANY(%s)",
            [names],
        )
        assert cursor.fetchall(), "no listener connection to cut"
