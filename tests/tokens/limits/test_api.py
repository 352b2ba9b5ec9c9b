"""Limits over the API: each kind's `…/{id}/limits` and the organization's `/api/v1/limits`:
reading, replacing, the refusals a bad body gets, tenancy, the lock-out confirmation, and what
a saved limit does to the credential's next requests (codes and headers)."""

import base64

import pytest

from tests.factories import bearer, issue, login_pair, make_api_key, make_client
from tests.tokens.oauth.helpers import grant
from tokens.limits import sync
from tokens.models import AuditEvent, CreditBalance, Limits

from .conftest import limits_url

pytestmark = pytest.mark.django_db

ADMIN_SCOPES = [
    "read.me",
    "read.tokens",
    "update.tokens",
    "read.api_keys",
    "update.api_keys",
    "read.oauth_clients",
    "update.oauth_clients",
]


@pytest.fixture
def admin_secret(alice):
    return issue(alice, scopes=ADMIN_SCOPES)[1]


def put(api, secret, url, body):
    return api.put(url, body, format="json", **bearer(secret))


def test_a_token_without_limits_reads_empty_limits(api, dev, admin_secret):
    token, _ = issue(dev)
    response = api.get(limits_url("tokens", token.pk), **bearer(admin_secret))
    assert response.status_code == 200
    assert response.json() == {
        "rateLimits": [],
        "credits": None,
        "allowlist": {"ranges": [], "reportOnly": False},
    }


def test_an_admin_sets_every_limit_and_reads_them_back(api, dev, admin_secret):
    token, _ = issue(dev)
    body = {
        "rateLimits": [{"name": "burst", "limit": 10, "windowSeconds": 60}],
        "credits": {
            "remaining": 500,
            "refill": {"amount": 500, "interval": "monthly", "dayOfMonth": 1},
        },
        "allowlist": {"ranges": ["127.0.0.1/32", "2001:db8::/32"], "reportOnly": False},
    }
    response = put(api, admin_secret, limits_url("tokens", token.pk), body)
    assert response.status_code == 200, response.json()
    row = Limits.objects.get(credential_kind="personal", credential_id=token.pk)
    assert row.rate_limits == [{"name": "burst", "limit": 10, "window_seconds": 60, "cost": 1}]
    assert CreditBalance.objects.get(limits=row).remaining == 500
    read = api.get(limits_url("tokens", token.pk), **bearer(admin_secret)).json()
    assert read["rateLimits"][0]["windowSeconds"] == 60
    assert read["credits"]["remaining"] == 500
    assert read["credits"]["refill"] == {"amount": 500, "interval": "monthly", "dayOfMonth": 1}
    assert read["allowlist"]["ranges"] == ["127.0.0.1/32", "2001:db8::/32"]


def test_a_change_is_audited_and_announced(api, dev, admin_secret, org):
    token, _ = issue(dev)
    put(
        api,
        admin_secret,
        limits_url("tokens", token.pk),
        {"rateLimits": [{"limit": 5, "windowSeconds": 1}]},
    )
    event = AuditEvent.objects.get(action=AuditEvent.Action.LIMITS_CHANGED)
    assert event.credential_id == token.pk and "1 rate limit(s)" in event.detail
    from chats.models import WebhookEvent

    assert (
        not WebhookEvent.objects.exists()
        or WebhookEvent.objects.filter(type="credential.limits_changed").exists()
    )


@pytest.mark.parametrize(
    "body,code",
    [
        ({"allowlist": {"ranges": ["10.0.0.300/8"]}}, "invalid_cidr"),
        ({"allowlist": {"ranges": ["not an address"]}}, "invalid_cidr"),
        ({"allowlist": {"ranges": [f"10.0.{i}.0/24" for i in range(51)]}}, "too_many_ranges"),
        ({"rateLimits": [{"limit": -1, "windowSeconds": 60}]}, "number_out_of_range"),
        ({"rateLimits": [{"limit": 10**30, "windowSeconds": 60}]}, "number_out_of_range"),
        ({"rateLimits": [{"limit": 10, "windowSeconds": 0}]}, "number_out_of_range"),
        ({"rateLimits": [{"limit": "10", "windowSeconds": 60}]}, "invalid_number"),
        ({"rateLimits": [{"limit": True, "windowSeconds": 60}]}, "invalid_number"),
        (
            {"rateLimits": [{"name": "a", "limit": 1, "windowSeconds": 1}] * 2},
            "duplicate_rate_limit",
        ),
        (
            {"rateLimits": [{"name": "Bad Name!", "limit": 1, "windowSeconds": 1}]},
            "invalid_rate_limit_name",
        ),
        ({"credits": {"remaining": -5}}, "number_out_of_range"),
        (
            {"credits": {"remaining": 5, "refill": {"amount": 5, "interval": "weekly"}}},
            "invalid_refill",
        ),
        (
            {
                "credits": {
                    "remaining": 5,
                    "refill": {"amount": 5, "interval": "monthly", "dayOfMonth": 32},
                }
            },
            "number_out_of_range",
        ),
        ({"surprise": 1}, "unknown_field"),
    ],
)
def test_a_bad_body_is_a_400_with_a_code_and_writes_nothing(api, dev, admin_secret, body, code):
    token, _ = issue(dev)
    response = put(api, admin_secret, limits_url("tokens", token.pk), body)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert not Limits.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(api, dev, admin_secret):
    token, _ = issue(dev)
    response = put(api, admin_secret, limits_url("tokens", token.pk), [1, 2])
    assert response.status_code == 400


def test_only_admins_set_limits(api, dev):
    token, secret = issue(dev, scopes=["read.tokens", "update.tokens"])
    response = put(api, secret, limits_url("tokens", token.pk), {"rateLimits": []})
    assert response.status_code == 403
    assert response.json()["code"] == "admin_required"


def test_another_organizations_credential_answers_404(api, mallory, dev, admin_secret):
    theirs, _ = issue(mallory)
    key, _ = make_api_key(mallory)
    client, _ = make_client(mallory)
    for url in (
        limits_url("tokens", theirs.pk),
        limits_url("api-keys", key.pk),
        limits_url("oauth-clients", client.pk),
    ):
        assert api.get(url, **bearer(admin_secret)).status_code == 404
        assert put(api, admin_secret, url, {"rateLimits": []}).status_code == 404
    assert not Limits.objects.exists()


def test_saving_an_allowlist_that_locks_out_the_admin_needs_confirmation(api, dev, admin_secret):
    token, _ = issue(dev)
    body = {"allowlist": {"ranges": ["203.0.113.0/24"]}}
    response = put(api, admin_secret, limits_url("tokens", token.pk), body)
    assert response.status_code == 409
    assert response.json()["code"] == "lockout"
    assert "127.0.0.1" in response.json()["detail"]
    assert not Limits.objects.exists()
    confirmed = put(
        api, admin_secret, limits_url("tokens", token.pk), {**body, "confirmLockout": True}
    )
    assert confirmed.status_code == 200


def test_report_only_never_asks_for_confirmation(api, dev, admin_secret):
    token, _ = issue(dev)
    body = {"allowlist": {"ranges": ["203.0.113.0/24"], "reportOnly": True}}
    assert put(api, admin_secret, limits_url("tokens", token.pk), body).status_code == 200


def test_rate_limited_requests_get_429_rate_limited_with_headers(api, dev, admin_secret):
    token, secret = issue(dev)
    put(
        api,
        admin_secret,
        limits_url("tokens", token.pk),
        {"rateLimits": [{"name": "burst", "limit": 2, "windowSeconds": 60}]},
    )
    first = api.get("/api/v1/me", **bearer(secret))
    assert first.status_code == 200
    assert first["RateLimit-Policy"] == '"burst";q=2;w=60'
    assert first["RateLimit"].startswith('"burst";r=1;t=')
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200
    refused = api.get("/api/v1/me", **bearer(secret))
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert "burst" in refused.json()["detail"]
    assert int(refused["Retry-After"]) >= 1
    assert refused["RateLimit"].startswith('"burst";r=0;t=')


def test_a_credential_without_limits_gets_no_ratelimit_headers(api, dev):
    _token, secret = issue(dev)
    response = api.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 200
    assert "RateLimit" not in response and "RateLimit-Policy" not in response


def test_credits_run_out_with_429_usage_exceeded(api, dev, admin_secret):
    token, secret = issue(dev)
    put(api, admin_secret, limits_url("tokens", token.pk), {"credits": {"remaining": 3}})
    statuses = [api.get("/api/v1/me", **bearer(secret)).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = api.get("/api/v1/me", **bearer(secret))
    assert refused.json()["code"] == "usage_exceeded"
    assert "Retry-After" not in refused  # no refill: until an admin adds credits
    assert CreditBalance.objects.get().remaining == 0


def test_credits_with_a_refill_say_when_it_comes(api, dev, admin_secret):
    token, secret = issue(dev)
    put(
        api,
        admin_secret,
        limits_url("tokens", token.pk),
        {"credits": {"remaining": 0, "refill": {"amount": 10, "interval": "daily"}}},
    )
    refused = api.get("/api/v1/me", **bearer(secret))
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 86401


def test_an_admin_adding_credits_lets_requests_in_again(api, dev, admin_secret):
    token, secret = issue(dev)
    put(api, admin_secret, limits_url("tokens", token.pk), {"credits": {"remaining": 0}})
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 429
    put(api, admin_secret, limits_url("tokens", token.pk), {"credits": {"remaining": 2}})
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200


def test_an_address_outside_the_allowlist_gets_403_ip_not_allowed(api, dev, admin_secret):
    token, secret = issue(dev)
    put(
        api,
        admin_secret,
        limits_url("tokens", token.pk),
        {"allowlist": {"ranges": ["203.0.113.0/24"]}, "confirmLockout": True},
    )
    refused = api.get("/api/v1/me", **bearer(secret))
    assert refused.status_code == 403
    assert refused.json()["code"] == "ip_not_allowed"
    assert "127.0.0.1" in refused.json()["detail"]
    inside = api.get("/api/v1/me", REMOTE_ADDR="203.0.113.9", **bearer(secret))
    assert inside.status_code == 200


def test_report_only_lets_the_request_through_and_records_the_address(api, dev, admin_secret):
    token, secret = issue(dev)
    put(
        api,
        admin_secret,
        limits_url("tokens", token.pk),
        {"allowlist": {"ranges": ["203.0.113.0/24"], "reportOnly": True}},
    )
    assert api.get("/api/v1/me", REMOTE_ADDR="198.51.100.7", **bearer(secret)).status_code == 200
    sync.flush_reports()
    row = Limits.objects.get()
    report = row.reports.get()
    assert (report.address, report.count) == ("198.51.100.7", 1)


def test_the_organizations_allowlist_applies_to_every_credential(api, dev, admin_secret):
    _token, secret = issue(dev)
    response = put(
        api,
        admin_secret,
        "/api/v1/limits",
        {"allowlist": {"ranges": ["203.0.113.0/24"]}, "confirmLockout": True},
    )
    assert response.status_code == 200
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 403


def test_the_organizations_rate_limits_apply_where_a_credential_has_none(api, dev, admin_secret):
    token, secret = issue(dev)
    put(api, admin_secret, "/api/v1/limits", {"rateLimits": [{"limit": 1, "windowSeconds": 60}]})
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 429
    put(
        api,
        admin_secret,
        limits_url("tokens", token.pk),
        {"rateLimits": [{"limit": 100, "windowSeconds": 60}]},
    )
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200


def test_the_organization_takes_no_credits(api, admin_secret):
    response = put(api, admin_secret, "/api/v1/limits", {"credits": {"remaining": 5}})
    assert response.status_code == 400
    assert response.json()["code"] == "credits_per_credential"


def test_an_api_key_is_limited_like_a_token(api, alice, admin_secret):
    key, secret = make_api_key(alice, scopes=["read.me"])
    put(
        api,
        admin_secret,
        limits_url("api-keys", key.pk),
        {"rateLimits": [{"limit": 1, "windowSeconds": 60}]},
    )
    basic = "Basic " + base64.b64encode(f"{key.key_id}:{secret}".encode()).decode()
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=basic).status_code == 200
    refused = api.get("/api/v1/me", HTTP_AUTHORIZATION=basic)
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"


def test_an_oauth_clients_limits_hold_for_its_tokens(api, alice, dev, admin_secret):
    client, client_secret = make_client(dev)
    response = put(
        api,
        admin_secret,
        limits_url("oauth-clients", client.pk),
        {"rateLimits": [{"name": "app", "limit": 1, "windowSeconds": 30}]},
    )
    assert response.status_code == 200
    access_token = grant(dev, client, client_secret)["access_token"]
    assert api.get("/api/v1/me", **bearer(access_token)).status_code == 200
    refused = api.get("/api/v1/me", **bearer(access_token))
    assert refused.status_code == 429
    assert refused["RateLimit-Policy"] == '"app";q=1;w=30'


def test_login_sessions_take_no_limits(api, dev, admin_secret):
    put(
        api,
        admin_secret,
        "/api/v1/limits",
        {"rateLimits": [{"limit": 1, "windowSeconds": 60}]},
    )
    secret = login_pair(dev).token.reveal()
    for _ in range(3):
        assert api.get("/api/v1/me", **bearer(secret)).status_code == 200
