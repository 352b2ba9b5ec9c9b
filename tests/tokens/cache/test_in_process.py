"""The cache inside one process: the warm path asks nothing, failures are never stored, and
every write publishes the tags that drop what it changed (tests/tokens/cache/test_live_servers.py
checks the same writes across processes, on PostgreSQL)."""

import base64
import datetime
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from tests.factories import bearer, issue, login_pair, make_api_key, make_client, membership
from tokens import audit, invalidation
from tokens.api_keys import services as api_key_services
from tokens.credential_cache import cache
from tokens.login import services as login_services
from tokens.models import AccessToken, AuditEvent, CredentialKind
from tokens.oauth import services as oauth_services
from tokens.personal import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_on(settings, monkeypatch):
    """The cache in use as if this process's listener were connected (no thread, any database)."""
    settings.CREDENTIAL_CACHE = True
    monkeypatch.setattr(invalidation, "_listener", True)
    cache.set_listening(True)
    yield cache
    cache.set_listening(False)


@pytest.fixture
def published(monkeypatch):
    """Every tag published, in order (the real publish still runs)."""
    seen = []
    real = invalidation.publish

    def spy(*tags, **kwargs):
        seen.extend(tags)
        return real(*tags, **kwargs)

    monkeypatch.setattr(invalidation, "publish", spy)
    return seen


def _queries_for(api, secret, path="/api/v1/tokens"):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path, **bearer(secret))
    return response, [q for q in queries if '"token_checksum" = ' in q["sql"]]


def test_a_warm_token_is_verified_without_asking_the_database(api, dev, cache_on):
    token, secret = issue(dev, scopes=["read.tokens"])
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    first, cold = _queries_for(api, secret)
    second, warm = _queries_for(api, secret)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (len(cold), len(warm)) == (1, 0)


def test_an_unknown_token_is_never_cached(api, cache_on):
    for _ in range(3):
        response = api.get("/api/v1/me", **bearer("kw_legacy_not_a_real_token_0000"))
        assert response.status_code == 401
    assert len(cache_on) == 0


def test_the_cache_is_bypassed_while_not_listening(api, dev, cache_on):
    _token, secret = issue(dev, scopes=["read.tokens"])
    _queries_for(api, secret)
    cache_on.set_listening(False)
    response, lookups = _queries_for(api, secret)
    assert response.status_code == 200
    assert len(lookups) == 1


def test_a_cached_token_writes_its_last_use_once_per_interval(api, dev, cache_on):
    token, secret = issue(dev, scopes=["read.tokens"])
    for _ in range(3):
        assert api.get("/api/v1/tokens", **bearer(secret)).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        api.get("/api/v1/tokens", **bearer(secret))
    assert not [q for q in queries if "last_used_at" in q["sql"] and q["sql"].startswith("UPDATE")]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_expiry_is_checked_against_the_clock_on_every_hit(api, dev, cache_on):
    token, secret = issue(dev, scopes=["read.tokens"])
    AccessToken.objects.filter(pk=token.pk).update(
        expires=timezone.now() + datetime.timedelta(seconds=1)
    )
    assert api.get("/api/v1/tokens", **bearer(secret)).status_code == 200
    later = timezone.now() + datetime.timedelta(seconds=5)
    with mock.patch("tokens.authentication.timezone.now", return_value=later):
        response = api.get("/api/v1/tokens", **bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_a_grace_period_ends_by_the_clock_on_a_cached_row(api, dev, cache_on):
    token, secret = issue(dev, scopes=["read.tokens"])
    assert api.get("/api/v1/tokens", **bearer(secret)).status_code == 200
    services.rotate_token(token=token, grace="1h", by=dev)
    assert api.get("/api/v1/tokens", **bearer(secret)).status_code == 200  # in grace
    with mock.patch(
        "tokens.authentication.timezone.now",
        return_value=timezone.now() + datetime.timedelta(hours=2),
    ):
        response = api.get("/api/v1/tokens", **bearer(secret))
    assert response.json()["code"] == "token_revoked"


def test_a_revoked_token_is_refused_by_the_same_process_at_once(api, dev, cache_on):
    token, secret = issue(dev, scopes=["read.tokens"])
    assert api.get("/api/v1/tokens", **bearer(secret)).status_code == 200
    services.revoke_token(token=token, by=dev)
    response = api.get("/api/v1/tokens", **bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_a_revoked_api_key_is_refused_by_the_same_process_at_once(api, alice, cache_on):
    key, secret = make_api_key(alice, scopes=["read.me"])
    basic = {
        "HTTP_AUTHORIZATION": "Basic "
        + base64.b64encode(f"{key.key_id}:{secret}".encode()).decode()
    }
    assert api.get("/api/v1/me", **basic).status_code == 200
    assert len(cache_on) == 1
    api_key_services.revoke_api_key(key=key, by=alice)
    response = api.get("/api/v1/me", **basic)
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_requiring_jwt_exp_reaches_a_cached_api_key_at_once(api, alice, org, cache_on):
    import jwt

    key, secret = make_api_key(alice, scopes=["read.me"])
    unexpiring = {
        "HTTP_AUTHORIZATION": "Bearer "
        + jwt.encode({"scope": "app"}, secret, algorithm="HS256", headers={"kid": key.key_id})
    }
    assert api.get("/api/v1/me", **unexpiring).status_code == 200
    assert len(cache_on) == 1
    services.set_token_policy(
        organization=org,
        by=alice,
        require_expiry=False,
        max_lifetime_days=None,
        max_live_tokens_per_member=None,
        require_jwt_exp=True,
    )
    response = api.get("/api/v1/me", **unexpiring)
    assert (response.status_code, response.json()["code"]) == (401, "exp_required")


# --- every write publishes what it changes ----------------------------------------------


def test_revoke_publishes_the_token(dev, published):
    token, _ = issue(dev)
    services.revoke_token(token=token, by=dev)
    assert f"token:{token.pk}" in published


def test_rotate_publishes_the_old_token(dev, published):
    token, _ = issue(dev)
    services.rotate_token(token=token, grace="none", by=dev)
    assert f"token:{token.pk}" in published


def test_logout_publishes_the_session_token(dev, published):
    pair = login_pair(dev)
    login_services.log_out(token_id=pair.access_token.pk, by=dev)
    assert f"token:{pair.access_token.pk}" in published


def test_ending_sessions_publishes_each_token(dev, org, published):
    pairs = [login_pair(dev), login_pair(dev)]
    login_services.end_sessions(user=dev, by=dev, organization=org)
    assert {f"token:{p.access_token.pk}" for p in pairs} <= set(published)


def test_revoke_all_publishes_every_session(dev, published):
    old = login_pair(dev)
    login_services.revoke_all(user=dev, membership=membership(dev))
    assert f"token:{old.access_token.pk}" in published


def test_api_key_rotate_and_revoke_publish_the_key(alice, published):
    key, _ = make_api_key(alice)
    api_key_services.rotate_api_key(key=key, by=alice)
    assert published.count(f"key:{key.pk}") == 1
    api_key_services.revoke_api_key(key=key, by=alice)
    assert published.count(f"key:{key.pk}") == 2


def test_client_delete_and_secret_regeneration_publish_the_client(alice, published):
    application, _ = make_client(alice, client_type="confidential")
    oauth_services.regenerate_secret(application=application, by=alice)
    assert published == [f"app:{application.pk}"]
    oauth_services.delete_client(application=application, by=alice)
    assert published == [f"app:{application.pk}"] * 2


def test_dot_revocation_through_the_model_publishes_the_token(dev, published):
    token, _ = issue(dev)
    token.revoke()
    assert published == [f"token:{token.pk}"]


@pytest.mark.parametrize(
    ("action", "kind", "expected"),
    [
        (AuditEvent.Action.MEMBER_CHANGED, CredentialKind.MEMBER, "org"),
        (AuditEvent.Action.MEMBER_REMOVED, CredentialKind.MEMBER, "org"),
        (AuditEvent.Action.POLICY_CHANGED, CredentialKind.POLICY, "org"),
        (AuditEvent.Action.ROTATED, CredentialKind.LOGIN, "org"),  # a password change
        (AuditEvent.Action.ORGANIZATION_CHANGED, CredentialKind.ORGANIZATION, "all"),
        (AuditEvent.Action.GROUP_CHANGED, CredentialKind.GROUP, "all"),
        (AuditEvent.Action.GROUP_DELETED, CredentialKind.GROUP, "all"),
        (AuditEvent.Action.ISSUED, CredentialKind.MEMBER, None),
        (AuditEvent.Action.SECRET_SHOWN, CredentialKind.PERSONAL, None),
    ],
)
def test_audited_changes_of_people_and_tenants_publish(org, action, kind, expected):
    event = audit.event(action=action, organization=org, kind=kind)
    tags = audit.invalidated_by(event)
    assert tags == (
        () if expected is None else ("all",) if expected == "all" else (f"org:{org.pk}",)
    )


def test_role_change_through_the_api_publishes_the_organization(api, alice, agent, org, published):
    _t, secret = issue(alice, scopes=["admin"])
    response = api.patch(
        f"/api/v1/users/{agent.pk}", {"role": "guest"}, format="json", **bearer(secret)
    )
    assert response.status_code == 200
    assert f"org:{org.pk}" in published


def test_member_removal_through_the_api_publishes_the_organization(
    api, alice, agent, org, published
):
    _t, secret = issue(alice, scopes=["admin"])
    assert api.delete(f"/api/v1/users/{agent.pk}", **bearer(secret)).status_code == 204
    assert f"org:{org.pk}" in published


def test_group_change_through_the_api_publishes_everything(api, alice, group, published):
    _t, secret = issue(alice, scopes=["admin"])
    response = api.patch(
        f"/api/v1/organization-groups/{group.pk}",
        {"name": "Acme Holding"},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 200
    assert "all" in published


def test_admin_deactivation_publishes_the_user(admin_client_for, agent, published):
    response = admin_client_for.post(
        f"/admin/accounts/user/{agent.pk}/change/", _user_form(agent, is_active=False)
    )
    assert response.status_code == 302
    assert f"user:{agent.pk}" in published


def test_admin_membership_change_publishes_the_membership(admin_client_for, dev, org, published):
    m = membership(dev)
    response = admin_client_for.post(
        f"/admin/accounts/membership/{m.pk}/change/",
        {
            "user": dev.pk,
            "organization": org.pk,
            "role": Role.BOT,
            "developer_access": "",
            "created_at_0": "2026-01-01",
            "created_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302
    assert f"member:{m.pk}" in published


def test_admin_membership_delete_publishes_the_membership(admin_client_for, dev, published):
    m = membership(dev)
    response = admin_client_for.post(f"/admin/accounts/membership/{m.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert f"member:{m.pk}" in published


@pytest.fixture
def admin_client_for(client, django_user_model):
    root = django_user_model.objects.create_superuser("root@keyward.test", "x-password-1")
    client.force_login(root)
    return client


def _user_form(user, **changes):
    data = {
        "email": user.email,
        "name": user.name or "",
        "is_active": "on" if user.is_active else "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    if changes.get("is_active") is False:
        data["is_active"] = ""
    return data
