"""Usage over the API: each kind's `…/{id}/usage` and the organization's `/api/v1/usage`,
with the credential's own reach and scope rules, and a clear 400 for a bad period."""

import base64

import pytest

from tests.factories import bearer, issue, make_api_key, make_client
from tokens.models import AccessToken, Kind
from tokens.usage import counter

pytestmark = pytest.mark.django_db


def _traffic(api, secret, n, path="/api/v1/me", **extra):
    for _ in range(n):
        api.get(path, **bearer(secret), **extra)
    counter.flush()


def test_a_tokens_usage_reports_totals_series_operations_addresses_and_scopes(api, dev):
    token, secret = issue(dev, scopes=["read.me", "read.tokens"])
    _traffic(api, secret, 3)
    api.get("/api/v1/conversations", **bearer(secret))  # 403: lacks read.chats
    counter.flush()
    response = api.get(f"/api/v1/tokens/{token.pk}/usage", **bearer(secret))
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == "24h" and body["bucket"] == "hour"
    assert body["totals"]["requests"] == 4
    assert body["totals"]["errors"] == 1
    assert sum(point["requests"] for point in body["series"]) == 4
    assert len(body["series"]) == 24
    assert body["operations"][0] == {
        "operation": "GET /api/v1/me",
        "requests": 3,
        "errors": 0,
        "statuses": [{"status": 200, "requests": 3}],
    }
    assert body["addresses"][0]["address"] == "127.0.0.1"
    assert body["addresses"][0]["requests"] == 4
    scopes = {item["scope"]: item["lastUsedAt"] for item in body["scopes"]}
    assert scopes["read.me"] is not None
    assert scopes["read.tokens"] is None


def test_the_usage_request_itself_is_counted_once_flushed(api, dev):
    token, secret = issue(dev, scopes=["read.tokens"])
    api.get(f"/api/v1/tokens/{token.pk}/usage", **bearer(secret))
    counter.flush()
    body = api.get(f"/api/v1/tokens/{token.pk}/usage", **bearer(secret)).json()
    assert body["operations"][0]["operation"] == "GET /api/v1/tokens/{id}/usage"


@pytest.mark.parametrize(
    "period,buckets,bucket", [("7d", 168, "hour"), ("30d", 30, "day"), ("90d", 90, "day")]
)
def test_each_period_has_its_buckets(api, dev, period, buckets, bucket):
    token, secret = issue(dev, scopes=["read.tokens"])
    _traffic(api, secret, 2, path="/api/v1/tokens")
    body = api.get(f"/api/v1/tokens/{token.pk}/usage?period={period}", **bearer(secret)).json()
    assert (len(body["series"]), body["bucket"], body["totals"]["requests"]) == (buckets, bucket, 2)


def test_a_bad_period_is_a_400_with_a_code_and_a_sentence(api, dev):
    token, secret = issue(dev, scopes=["read.tokens"])
    response = api.get(f"/api/v1/tokens/{token.pk}/usage?period=1y", **bearer(secret))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_period"
    assert "24h" in response.json()["detail"]


def test_another_organizations_token_usage_is_a_404_like_a_missing_one(api, dev, mallory):
    theirs, _ = issue(mallory, scopes=["read.me"])
    _mine, secret = issue(dev, scopes=["read.tokens"])
    outsider = api.get(f"/api/v1/tokens/{theirs.pk}/usage", **bearer(secret))
    missing = api.get("/api/v1/tokens/999999/usage", **bearer(secret))
    assert outsider.status_code == missing.status_code == 404
    assert outsider.json() == missing.json()


def test_usage_needs_the_kinds_read_scope(api, dev):
    token, secret = issue(dev, scopes=["read.me"])
    response = api.get(f"/api/v1/tokens/{token.pk}/usage", **bearer(secret))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_an_api_keys_usage_separates_the_previous_secret(api, alice):
    from tokens.api_keys import services

    key, old = make_api_key(alice, scopes=["admin"])
    new = services.rotate_api_key(key=key, grace="1h", by=alice).secret.reveal()
    for secret in (old, old, new):
        raw = base64.b64encode(f"{key.key_id}:{secret}".encode()).decode()
        api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Basic {raw}")
    counter.flush()
    _token, mine = issue(alice, scopes=["read.api_keys"])
    body = api.get(f"/api/v1/api-keys/{key.pk}/usage", **bearer(mine)).json()
    assert body["totals"]["requests"] == 3
    assert body["totals"]["previousSecretRequests"] == 2
    assert body["totals"]["previousSecretLastUsedAt"] is not None


def test_an_oauth_clients_usage_counts_its_access_tokens(api, dev):
    app, _secret = make_client(dev)
    token, secret = issue(dev, scopes=["read.me"])
    # An access token as /o/token/ would issue it (the flow itself is tested in tests/tokens/oauth).
    AccessToken.objects.filter(pk=token.pk).update(kind=Kind.OAUTH, application=app)
    _traffic(api, secret, 2)
    _mine, mine = issue(dev, scopes=["read.oauth_clients"])
    body = api.get(f"/api/v1/oauth-clients/{app.pk}/usage", **bearer(mine)).json()
    assert body["totals"]["requests"] == 2
    assert body["scopes"] == [{"scope": "read.me", "lastUsedAt": body["scopes"][0]["lastUsedAt"]}]


def test_the_organizations_usage_is_for_admins_and_names_the_busiest_credentials(api, alice, dev):
    token, secret = issue(dev, scopes=["read.me"])
    _traffic(api, secret, 5)
    _admin, admin_secret = issue(
        alice, scopes=["read.tokens", "read.api_keys", "read.oauth_clients"]
    )
    body = api.get("/api/v1/usage?period=7d", **bearer(admin_secret)).json()
    assert body["totals"]["requests"] == 5
    assert body["credentials"][0] == {
        "kind": "personal",
        "id": token.pk,
        "requests": 5,
        "errors": 0,
    }


def test_the_organizations_usage_is_refused_to_a_developer(api, dev):
    _token, secret = issue(dev, scopes=["read.tokens", "read.api_keys", "read.oauth_clients"])
    assert api.get("/api/v1/usage", **bearer(secret)).status_code == 403


def test_the_organizations_usage_leaves_other_organizations_out(api, alice, mallory):
    _theirs, their_secret = issue(mallory, scopes=["read.me"])
    _traffic(api, their_secret, 2)
    _admin, admin_secret = issue(
        alice, scopes=["read.tokens", "read.api_keys", "read.oauth_clients"]
    )
    body = api.get("/api/v1/usage", **bearer(admin_secret)).json()
    assert body["totals"]["requests"] == 0
