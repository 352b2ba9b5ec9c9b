"""Throttle counters are atomic: parallel failures get exactly the limit's password checks (issue 10, finding 9).

Each attempt is counted before the password is checked, in one atomic step (an upsert on
PostgreSQL, INCR on Redis), so 30 threads released together make exactly as many checks
as the limit allows: 10 per account and 50 per address.
"""

import threading
import uuid
from unittest import mock

import pytest
from django.contrib.auth.backends import ModelBackend

from accounts import throttle
from accounts.errors import Refused
from tests.conftest import TEST_REDIS_URL, require_redis
from tests.factories import in_parallel
from tokens.login import services

WRONG = "not-the-password-9f3a"
THREADS = 30


@pytest.fixture
def password_checks():
    """Counts the password checks the throttle let through (ModelBackend's, behind ours)."""
    real = ModelBackend.authenticate
    lock, calls = threading.Lock(), []

    def counted(self, request, username=None, password=None, **kwargs):
        with lock:
            calls.append(username)
        return real(self, request, username=username, password=password, **kwargs)

    with mock.patch.object(ModelBackend, "authenticate", counted):
        yield calls


def _attempt(email, ip):
    try:
        services.log_in(email=email, password=WRONG, ip=ip)
    except throttle.Throttled:
        return "throttled"
    except Refused as exc:
        return exc.code
    return "logged in"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_thirty_parallel_failures_on_one_account_get_exactly_ten_password_checks(
    alice, password_checks
):
    throttle.reset()

    def work(n, start):
        start.wait()
        return _attempt("alice@acme.test", f"10.1.0.{n}")

    outcomes = in_parallel(THREADS, work)
    assert len(password_checks) == 10
    assert sorted(outcomes) == ["invalid_grant"] * 10 + ["throttled"] * 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sixty_failures_from_one_address_in_thirty_threads_get_exactly_fifty_checks(
    alice, password_checks
):
    throttle.reset()

    def work(n, start):
        start.wait()
        return [_attempt(f"guess{n}-{round_}@acme.test", "10.2.0.1") for round_ in range(2)]

    outcomes = [outcome for pair in in_parallel(THREADS, work) for outcome in pair]
    assert len(password_checks) == 50
    assert outcomes.count("invalid_grant") == 50 and outcomes.count("throttled") == 10


# --- Redis ------------------------------------------------------------------------------


@pytest.fixture
def redis_counters(settings):
    """The throttle on Redis (TEST_REDIS_URL); skipped when Redis is unreachable, unless REQUIRE_REDIS=1."""
    require_redis()
    settings.REDIS_URL = TEST_REDIS_URL
    store = throttle.counters()
    assert isinstance(store, throttle.RedisCounters)
    return store


def _reserve_and_count(account, ip, checks, lock):
    try:
        throttle.reserve(account=account, ip=ip)
    except throttle.Throttled:
        return "throttled"
    with lock:
        checks.append(account)
    return "checked"


def test_on_redis_thirty_parallel_failures_get_exactly_ten_checks_per_account_and_fifty_per_address(
    redis_counters,
):
    run = uuid.uuid4().hex  # other runs may share this Redis database: keys of our own
    lock, on_account, on_address = threading.Lock(), [], []

    def one_account(n, start):
        start.wait()
        return _reserve_and_count(
            f"someone-{run}@acme.test", f"account-test-{run}-{n}", on_account, lock
        )

    def one_address(n, start):
        start.wait()
        return [
            _reserve_and_count(
                f"guess-{run}-{n}-{i}@acme.test", f"address-test-{run}", on_address, lock
            )
            for i in range(2)
        ]

    try:
        in_parallel(THREADS, one_account)
        in_parallel(THREADS, one_address)
    finally:
        keys = [redis_counters.prefix + throttle.account_key(f"someone-{run}@acme.test")]
        keys += [f"{redis_counters.prefix}ip:account-test-{run}-{n}" for n in range(THREADS)]
        keys += [
            redis_counters.prefix + throttle.account_key(f"guess-{run}-{n}-{i}@acme.test")
            for n in range(THREADS)
            for i in range(2)
        ]
        redis_counters.client.delete(*keys, f"{redis_counters.prefix}ip:address-test-{run}")
    assert len(on_account) == 10
    assert len(on_address) == 50


def test_on_redis_the_window_expires_with_the_key(redis_counters, settings):
    run = uuid.uuid4().hex
    key = redis_counters.prefix + throttle.account_key(f"ttl-{run}@acme.test")
    throttle.reserve(account=f"ttl-{run}@acme.test")
    try:
        assert 0 < redis_counters.client.pttl(key) <= settings.LOGIN_FAILURE_WINDOW_SECONDS * 1000
    finally:
        redis_counters.client.delete(key)
