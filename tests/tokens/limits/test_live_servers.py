"""Limits on live servers: two gunicorn servers of two workers each (four processes), counting
through PostgreSQL and through Redis. Each refusal with its code and headers; accuracy under
concurrent load (a rate limit admits at most 110 % of its limit, credits at most their balance
and at least 95 % of it); addresses behind a trusted proxy (IPv4, IPv6, IPv4-mapped);
report-only recording; the lock-out confirmation."""

import datetime
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests
from django.db import connection
from django.db.models import F

from bench.live import Server, database_url
from tests.conftest import TEST_REDIS_URL, require_redis
from tests.factories import issue
from tokens.models import AllowlistReport, CreditBalance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ADMIN = ["read.me", "read.tokens", "update.tokens"]


@pytest.fixture(scope="module", params=["database", "redis"])
def servers(request, django_db_setup, django_db_blocker):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    redis_url = ""
    if request.param == "redis":
        require_redis()
        redis_url = TEST_REDIS_URL
        redis.Redis.from_url(redis_url).flushdb()
    env = {"LIMITS_SYNC_MS": "50", "TRUSTED_PROXY_COUNT": "1", "USAGE_FLUSH_SECONDS": "1"}
    url = database_url(connection.settings_dict)
    started = [
        Server(database_url=url, redis_url=redis_url, workers=2, extra_env=env) for _ in range(2)
    ]
    yield started
    for server in started:
        server.stop()
    if redis_url:
        redis.Redis.from_url(redis_url).flushdb()


def _put(server, secret, path, body, address="127.0.0.1"):
    return requests.put(
        server.url + path,
        json=body,
        headers={"Authorization": f"Bearer {secret}", "X-Forwarded-For": address},
        timeout=10,
    )


def _get(server, secret, address="127.0.0.1", path="/api/v1/me"):
    return requests.get(
        server.url + path,
        headers={"Authorization": f"Bearer {secret}", "X-Forwarded-For": address},
        timeout=10,
    )


def _blast(servers, secret, n, threads=8):
    """`n` requests from `threads` clients spread over both servers (new connections each)."""
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda i: _get(servers[i % 2], secret), range(n)))


def _limited(servers, alice, dev, body):
    _admin_token, admin = issue(alice, scopes=ADMIN)
    token, secret = issue(dev)
    response = _put(servers[0], admin, f"/api/v1/tokens/{token.pk}/limits", body)
    assert response.status_code == 200, response.text
    return token, secret, admin


def _wait_for_window_start(width):
    """Start just after a cell boundary, so the whole run falls in one fixed cell."""
    into = time.time() % width
    if into > width - 8:
        time.sleep(width - into + 0.05)


def test_a_rate_limit_admits_at_most_110_percent_across_four_workers(servers, alice, dev):
    limit = 200
    _wait_for_window_start(60)
    _token, secret, _admin = _limited(
        servers, alice, dev, {"rateLimits": [{"name": "api", "limit": limit, "windowSeconds": 60}]}
    )
    answers = _blast(servers, secret, 3 * limit)
    admitted = sum(r.status_code == 200 for r in answers)
    print(f"rate limit {limit}: admitted {admitted} ({100 * admitted / limit:.1f} %)")
    assert admitted <= 1.10 * limit
    assert admitted >= 0.80 * limit
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Policy"] == f'"api";q={limit};w=60'
    assert refused.headers["RateLimit"].startswith('"api";r=0;t=')
    ok = next(r for r in answers if r.status_code == 200)
    assert ok.headers["RateLimit-Policy"] == f'"api";q={limit};w=60'


def test_credits_admit_at_most_their_balance_and_at_least_95_percent(servers, alice, dev):
    balance = 400
    token, secret, _admin = _limited(servers, alice, dev, {"credits": {"remaining": balance}})
    answers = _blast(servers, secret, balance + 200)
    admitted = sum(r.status_code == 200 for r in answers)
    first_refusal = next(i for i, r in enumerate(answers) if r.status_code == 429)
    before = sum(r.status_code == 200 for r in answers[:first_refusal])
    print(
        f"credits {balance}: admitted {admitted} ({100 * admitted / balance:.1f} %), "
        f"{before} before the first refusal"
    )
    assert admitted <= balance
    assert admitted >= 0.95 * balance
    refused = answers[first_refusal]
    assert refused.json()["code"] == "usage_exceeded"
    assert CreditBalance.objects.get(limits__credential_id=token.pk).remaining >= 0


@pytest.mark.parametrize(
    "address,status",
    [
        ("203.0.113.5", 200),
        ("::ffff:203.0.113.5", 200),
        ("2001:db8::7", 200),
        ("198.51.100.1", 403),
        ("2001:db9::1", 403),
        ("::ffff:198.51.100.1", 403),
    ],
)
def test_addresses_behind_a_trusted_proxy_are_judged_as_the_proxy_saw_them(
    servers, alice, dev, address, status
):
    _token, secret, _admin = _limited(
        servers,
        alice,
        dev,
        {"allowlist": {"ranges": ["203.0.113.0/24", "2001:db8::/32"]}, "confirmLockout": True},
    )
    response = _get(servers[1], secret, address=address)
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "ip_not_allowed"
        assert response.json()["detail"].startswith("Requests from ")


def test_a_spoofed_leftmost_address_is_not_believed(servers, alice, dev):
    _token, secret, _admin = _limited(
        servers, alice, dev, {"allowlist": {"ranges": ["203.0.113.0/24"]}, "confirmLockout": True}
    )
    response = _get(servers[0], secret, address="203.0.113.5, 198.51.100.1")
    assert response.status_code == 403
    assert "198.51.100.1" in response.json()["detail"]


def test_report_only_lets_requests_through_and_records_their_addresses(servers, alice, dev):
    _token, secret, _admin = _limited(
        servers, alice, dev, {"allowlist": {"ranges": ["203.0.113.0/24"], "reportOnly": True}}
    )
    for server in servers:
        assert _get(server, secret, address="198.51.100.9").status_code == 200
    deadline = time.monotonic() + 5
    while not AllowlistReport.objects.filter(address="198.51.100.9").exists():
        assert time.monotonic() < deadline, "the report-only refusal was not recorded"
        time.sleep(0.1)


def test_saving_a_list_that_locks_out_the_admin_needs_confirmation(servers, alice, dev):
    _admin_token, admin = issue(alice, scopes=ADMIN)
    token, _secret = issue(dev)
    path = f"/api/v1/tokens/{token.pk}/limits"
    body = {"allowlist": {"ranges": ["203.0.113.0/24"]}}
    refused = _put(servers[0], admin, path, body, address="198.51.100.4")
    assert refused.status_code == 409
    assert refused.json()["code"] == "lockout"
    assert "198.51.100.4" in refused.json()["detail"]
    inside = _put(servers[0], admin, path, body, address="203.0.113.4")
    assert inside.status_code == 200
    confirmed = _put(
        servers[1], admin, path, {**body, "confirmLockout": True}, address="198.51.100.4"
    )
    assert confirmed.status_code == 200


def test_limits_saved_after_a_credential_is_cached_hold_on_every_worker(servers, alice, dev):
    _admin_token, admin = issue(alice, scopes=ADMIN)
    token, secret = issue(dev)
    for server in servers:
        server.warm(f"Bearer {secret}")
    body = {"allowlist": {"ranges": ["203.0.113.0/24"]}, "confirmLockout": True}
    assert _put(servers[0], admin, f"/api/v1/tokens/{token.pk}/limits", body).status_code == 200
    deadline = time.monotonic() + 1.5  # the invalidation log's poll bound
    for _ in range(8):  # new connections: both workers of each server answer some
        for server in servers:
            while _get(server, secret).status_code != 403:
                assert time.monotonic() < deadline, "a worker kept the credential without limits"
                time.sleep(0.02)


def test_a_refill_at_a_period_boundary_replaces_the_balance_once_across_workers(
    servers, alice, dev
):
    body = {"credits": {"remaining": 20, "refill": {"amount": 100, "interval": "daily"}}}
    token, secret, _admin = _limited(servers, alice, dev, body)
    answers = _blast(servers, secret, 60)
    assert sum(r.status_code == 200 for r in answers) <= 20
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["code"] == "usage_exceeded"
    assert 0 < int(refused.headers["Retry-After"]) <= 86400  # until the next refill
    # The clock moves past the period's end, as the stored balance sees it: it is yesterday's.
    balance = CreditBalance.objects.filter(limits__credential_id=token.pk)
    balance.update(period_start=F("period_start") - datetime.timedelta(days=1))
    time.sleep(1.2)  # an empty worker asks the database again at most once a second
    answers = _blast(servers, secret, 200)
    admitted = sum(r.status_code == 200 for r in answers)
    print(f"refill of 100 across four workers: admitted {admitted}")
    assert 95 <= admitted <= 100  # the refill replaced the balance once, not once per worker
    assert balance.get().period_credits == 100
