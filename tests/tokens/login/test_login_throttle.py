"""Failed logins are throttled per account and per address, in a cache that outlives the process.

Limits (README): 10 failures per account and 50 per client address in 15 minutes;
NIST SP 800-63B allows at most 100 consecutive failures.
"""

import logging
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import get_hasher
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory
from django.views.debug import SafeExceptionReporterFilter

from accounts import throttle
from tests.factories import PASSWORD
from tests.tokens.login.helpers import TOKEN_URL, later, log_in, pair_of, refresh
from tokens.login.api import TokenView

WRONG = "not-the-password-9f3a"


@pytest.fixture(autouse=True)
def empty_cache():
    """The database cache table is not a model: transactional tests would not empty it (nor Redis)."""
    cache.clear()
    throttle.reset()
    yield
    cache.clear()
    throttle.reset()


def _fail(api, email="alice@acme.test", times=1, ip="127.0.0.1"):
    for _ in range(times):
        response = log_in(api, email, WRONG, ip=ip)
        assert response.status_code == 400, response.content


@pytest.mark.django_db
def test_the_eleventh_attempt_on_one_account_is_throttled_even_with_the_right_password(
    api, alice, throttle_store
):
    _fail(api, times=10)
    response = log_in(api, "alice@acme.test")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 15 * 60 + 1


@pytest.mark.django_db
def test_ten_failures_are_allowed(api, alice, throttle_store):
    _fail(api, times=9)
    assert log_in(api, "alice@acme.test").status_code == 200


@pytest.mark.django_db
def test_the_account_limit_holds_across_addresses(api, alice, throttle_store):
    for n in range(10):
        _fail(api, ip=f"10.0.0.{n}")
    assert log_in(api, "alice@acme.test", ip="10.0.1.1").status_code == 429


@pytest.mark.django_db
def test_an_unknown_email_is_throttled_exactly_like_a_real_one(api, throttle_store):
    _fail(api, "nobody@acme.test", times=10)
    assert log_in(api, "nobody@acme.test").status_code == 429


@pytest.mark.django_db
def test_the_address_limit_is_fifty_failures_across_accounts(api, alice, throttle_store):
    for n in range(50):
        _fail(api, f"guess{n}@acme.test", ip="10.0.0.66")
    assert log_in(api, "alice@acme.test", ip="10.0.0.66").status_code == 429
    assert log_in(api, "alice@acme.test", ip="10.0.0.67").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("throttle_store", ["database"], indirect=True)
def test_the_window_ends_after_fifteen_minutes(api, alice, throttle_store):
    # Redis ends the window by expiring the key, on its own clock, which `later` cannot move:
    # tests/tokens/login/test_throttle_parallel.py checks that expiry.
    _fail(api, times=10)
    with later(minutes=16):
        assert log_in(api, "alice@acme.test").status_code == 200


@pytest.mark.django_db
def test_a_success_clears_the_accounts_count(api, alice, throttle_store):
    _fail(api, times=9)
    pair_of(api, "alice@acme.test")
    _fail(api, times=9)
    assert log_in(api, "alice@acme.test").status_code == 200


@pytest.mark.django_db
def test_refreshing_is_not_throttled_by_failed_logins(api, alice, throttle_store):
    pair = pair_of(api, "alice@acme.test")
    _fail(api, times=10)
    assert refresh(api, pair["refreshToken"], client_id="alice@acme.test").status_code == 200


@pytest.mark.django_db
def test_the_counters_live_in_the_throttles_shared_store_not_in_process_memory(
    api, alice, throttle_store
):
    _fail(api, times=10)
    assert isinstance(throttle_store, (throttle.DatabaseCounters, throttle.RedisCounters))
    # A store of its own, as another process would open: it reads the same ten failures.
    elsewhere = (
        throttle.RedisCounters(django_settings.REDIS_URL)
        if isinstance(throttle_store, throttle.RedisCounters)
        else throttle.DatabaseCounters()
    )
    now = time.time()
    assert elsewhere.count(throttle.account_key("alice@acme.test"), now) == 10
    assert elsewhere.count("ip:127.0.0.1", now) == 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bad_passwords_stay_throttled_after_keyward_restarts(api, alice, throttle_store):
    _fail(api, times=10)
    assert log_in(api, "alice@acme.test").status_code == 429
    # A new Keyward process: none of this one's memory, the same database (and Redis if set).
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    script = (
        "import django, json; django.setup(); from django.test import Client; "
        f"r = Client().post({TOKEN_URL!r}, json.dumps({{'email': 'alice@acme.test', 'password': {PASSWORD!r}}}),"
        " content_type='application/json'); print(r.status_code, r.headers.get('Retry-After'))"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SECRET_KEY": "x",
        "ALLOWED_HOSTS": "testserver",
        "DEBUG": "false",
        "REDIS_URL": django_settings.REDIS_URL,
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=django_settings.BASE_DIR,
    )
    status, retry_after = result.stdout.split()[-2:]
    assert status == "429", result.stderr[-2000:]
    assert int(retry_after) > 0


@pytest.mark.django_db
def test_a_failed_login_logs_nothing_containing_the_password(api, alice, caplog):
    caplog.set_level(logging.DEBUG)
    log_in(api, "alice@acme.test", WRONG)
    log_in(api, "nobody@acme.test", WRONG)
    assert caplog.records  # something was logged, just not the secret
    assert not [r for r in caplog.records if WRONG in r.getMessage()]


@pytest.mark.django_db
def test_refresh_failures_log_nothing_containing_the_refresh_token(api, alice, caplog):
    pair = pair_of(api, "alice@acme.test")
    refresh(api, pair["refreshToken"], client_id="alice@acme.test")
    caplog.set_level(logging.DEBUG)
    with later(seconds=10):
        refresh(
            api, pair["refreshToken"], client_id="alice@acme.test"
        )  # a replay: logged as a warning
    refresh(api, pair["refreshToken"], client_id="someone@else.test")
    assert caplog.records
    assert not [r for r in caplog.records if pair["refreshToken"] in r.getMessage()]


@pytest.mark.django_db
def test_error_reports_mask_the_password_and_refresh_token():
    request = RequestFactory().post(
        TOKEN_URL, {"email": "a@b.test", "password": WRONG, "refreshToken": "kw_rt_x"}
    )
    TokenView.as_view()(request)
    masked = SafeExceptionReporterFilter().get_post_parameters(request)
    assert WRONG not in masked.values() and "kw_rt_x" not in masked.values()
    assert masked["email"] == "a@b.test"


@pytest.mark.django_db
def test_an_unknown_email_runs_the_password_hasher_once_exactly_like_a_wrong_password(
    api, alice, monkeypatch
):
    """What makes the two answers take as long as each other: one run of the hasher on each
    path (an unknown email hashes the password anyway), counted rather than timed."""
    hasher = type(get_hasher())
    real_encode, runs = hasher.encode, []

    def counted(self, *args, **kwargs):
        runs.append(1)
        return real_encode(self, *args, **kwargs)

    monkeypatch.setattr(hasher, "encode", counted)
    per_path = {}
    for email in ("alice@acme.test", "nobody@acme.test"):
        runs.clear()
        assert log_in(api, email, WRONG).status_code == 400
        per_path[email] = len(runs)
    assert per_path == {"alice@acme.test": 1, "nobody@acme.test": 1}
