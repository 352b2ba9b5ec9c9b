"""accounts.throttle on its own: reserve before the check, give back on success, parse Basic safely."""

import base64

import pytest
from django.utils import timezone

from accounts import throttle
from tests.tokens.login.helpers import later

pytestmark = pytest.mark.django_db


def count(store, key):
    """What the throttle's own store holds for `key`."""
    return store.count(key, timezone.now().timestamp())


def test_an_attempt_is_counted_before_anything_is_checked(throttle_store):
    throttle.reserve(account="a@acme.test", ip="192.0.2.1")
    assert count(throttle_store, throttle.account_key("a@acme.test")) == 1
    assert count(throttle_store, "ip:192.0.2.1") == 1


def test_the_account_key_never_holds_the_email():
    assert "acme" not in throttle.account_key("someone@acme.test")
    assert throttle.account_key(" Someone@Acme.test ") == throttle.account_key("someone@acme.test")


def test_a_success_clears_the_account_and_gives_back_the_addresss_unit(throttle_store):
    throttle.reserve(account="a@acme.test", ip="192.0.2.1")
    throttle.reserve(account="a@acme.test", ip="192.0.2.1").succeeded()
    assert count(throttle_store, throttle.account_key("a@acme.test")) == 0
    assert count(throttle_store, "ip:192.0.2.1") == 1


def test_a_refused_attempt_gives_back_what_it_took_from_counters_under_their_limit(
    settings, throttle_store
):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 1
    throttle.reserve(account="a@acme.test", ip="192.0.2.1")
    with pytest.raises(throttle.Throttled) as refused:
        throttle.reserve(account="a@acme.test", ip="192.0.2.1")
    assert 0 < refused.value.retry_after <= settings.LOGIN_FAILURE_WINDOW_SECONDS
    assert count(throttle_store, "ip:192.0.2.1") == 1


@pytest.mark.parametrize("throttle_store", ["database"], indirect=True)
def test_the_window_starts_again_after_it_ends(settings, throttle_store):
    # The database store reads Keyward's clock, which `later` moves; on Redis the window is the
    # key's own expiry (tests/tokens/login/test_throttle_parallel.py reads its PTTL).
    settings.LOGIN_FAILURES_PER_ACCOUNT = 1
    throttle.reserve(account="a@acme.test")
    with later(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS + 1):
        throttle.reserve(account="a@acme.test")
        assert count(throttle_store, throttle.account_key("a@acme.test")) == 1


def test_the_throttled_sentence_says_when_to_try_again():
    assert "Try again in 15 minutes." in throttle.Throttled(900).sentence
    assert "Try again in 1 minute." in throttle.Throttled(5).sentence


@pytest.mark.parametrize(
    "header,user",
    [
        ("Basic " + base64.b64encode(b"client-1:secret").decode(), "client-1"),
        ("BASIC " + base64.b64encode(b"client-1:secret").decode(), "client-1"),
        ("Basic " + base64.b64encode(b"a%3Ab:secret").decode(), "a:b"),
        ("Basic not-base64!", None),
        ("Basic " + base64.b64encode(b"no-colon").decode(), None),
        ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), None),
        ("Bearer abc", None),
        ("", None),
        (None, None),
    ],
)
def test_basic_auth_user_reads_only_a_well_formed_basic_header(header, user):
    assert throttle.basic_auth_user(header) == user
