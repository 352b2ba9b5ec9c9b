"""The cache inside one process: the warm path asks nothing, failures are never stored, and
trust ends with the log's last read (test_invalidation_log.py checks what the database logs;
test_live_servers.py the same writes across processes, on PostgreSQL)."""

import datetime
import time
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from tests.factories import bearer, issue
from tokens import secret_format
from tokens.bearer.authentication import AccessTokenAuthentication
from tokens.models import AccessToken
from tokens.personal import services

pytestmark = pytest.mark.django_db


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


def test_the_cache_is_bypassed_once_the_last_read_of_the_log_is_too_old(api, dev, cache_on):
    _token, secret = issue(dev, scopes=["read.tokens"])
    _queries_for(api, secret)
    cache_on.trust_until(time.monotonic() - 0.001)  # the listener has not read the log lately
    response, lookups = _queries_for(api, secret)
    assert response.status_code == 200
    assert len(lookups) == 1
    assert len(cache_on) == 1  # kept: it is trusted again once the log is read


def test_the_cache_is_bypassed_while_not_listening(api, dev, cache_on):
    _token, secret = issue(dev, scopes=["read.tokens"])
    _queries_for(api, secret)
    cache_on.set_listening(False)
    response, lookups = _queries_for(api, secret)
    assert response.status_code == 200
    assert len(lookups) == 1


def test_turning_the_cache_off_takes_effect_on_the_next_request(api, dev, cache_on, settings):
    # The arrival reads the cache it was last given (invalidation.ready): the setting must
    # take it back at once, not only where authentication asks again.
    _token, secret = issue(dev, scopes=["read.tokens"])
    _queries_for(api, secret)
    assert _queries_for(api, secret)[1] == []  # warm
    settings.CREDENTIAL_CACHE = False
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
    with mock.patch("tokens.bearer.authentication.clock", return_value=later.timestamp()):
        response = api.get("/api/v1/tokens", **bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_a_grace_period_ends_by_the_clock_on_a_cached_row(api, dev, cache_on):
    token, secret = issue(dev, scopes=["read.tokens"])
    assert api.get("/api/v1/tokens", **bearer(secret)).status_code == 200
    services.rotate_token(token=token, grace="1h", by=dev)
    cache_on.invalidate([f"token:{token.pk}"])  # as the log's reader does once it commits
    assert api.get("/api/v1/tokens", **bearer(secret)).status_code == 200  # in grace
    with mock.patch(
        "tokens.bearer.authentication.clock",
        return_value=(timezone.now() + datetime.timedelta(hours=2)).timestamp(),
    ):
        response = api.get("/api/v1/tokens", **bearer(secret))
    assert response.json()["code"] == "token_revoked"


def test_a_deactivated_owners_token_is_refused_from_memory_too(api, dev, cache_on):
    """The owner's refusal is worked out once per cached row: every request of it is refused."""
    _token, secret = issue(dev, scopes=["read.tokens"])
    assert api.get("/api/v1/tokens", **bearer(secret)).status_code == 200
    User.objects.filter(pk=dev.pk).update(is_active=False)
    cache_on.invalidate([f"user:{dev.pk}"])  # as the log's reader does once it commits
    for _ in range(2):  # the first asks the database, the second is answered from memory
        response = api.get("/api/v1/tokens", **bearer(secret))
        assert response.status_code == 401
        assert response.json()["detail"] == "The token's owner is deactivated."
    assert cache_on.holds(secret_format.digest(secret))


def test_a_cached_token_writes_its_last_use_again_once_the_interval_passed(
    api, dev, cache_on, settings
):
    token, secret = issue(dev, scopes=["read.tokens"])
    assert api.get("/api/v1/tokens", **bearer(secret)).status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    later = timezone.now() + datetime.timedelta(
        seconds=settings.TOKEN_LAST_USED_INTERVAL_SECONDS + 1
    )
    with mock.patch("tokens.bearer.authentication.clock", return_value=later.timestamp()):
        assert api.get("/api/v1/tokens", **bearer(secret)).status_code == 200
        assert api.get("/api/v1/tokens", **bearer(secret)).status_code == 200
    token.refresh_from_db()
    assert first is not None and token.last_used_at == later


def test_each_request_answered_from_memory_gets_its_own_user_loaded_from_the_database(
    dev, cache_on
):
    """The cached credential hands every request a User of its own (a view may fill its
    caches or change it), one that Django treats as read from the database."""
    _token, secret = issue(dev, scopes=["read.tokens"])
    authenticator = AccessTokenAuthentication()
    digest = secret_format.digest(secret)
    users = [
        authenticator.authenticate_digest(_request(), digest)[0]
        for _ in range(2)  # miss, hit
    ]
    assert cache_on.holds(digest)
    first, second = users
    assert first is not second and first._state is not second._state
    blank = User()
    for user in users:
        assert (user.pk, user.email, user.is_active) == (dev.pk, dev.email, True)
        assert user._state.adding is False and user._state.db == "default"
        # Every field is set but date_joined, left deferred (it loads the real one); a field
        # added to User and not to the warm path's list would be loaded by a query of its own.
        fields = [f.attname for f in User._meta.concrete_fields]
        assert [name for name in fields if name not in user.__dict__] == ["date_joined"]
        for name in set(fields) - {"id", "email", "is_active", "is_service_account", "date_joined"}:
            assert getattr(user, name) == getattr(blank, name), name
    assert first.date_joined == dev.date_joined
    first._state.fields_cache["marker"] = object()
    assert "marker" not in second._state.fields_cache
    users_before = User.objects.count()
    first.name = "Renamed from a request"
    first.save(update_fields=["name"])  # an UPDATE of the row it stands for, not an INSERT
    assert User.objects.get(pk=dev.pk).name == "Renamed from a request"
    assert User.objects.count() == users_before


def _request():
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    return Request(APIRequestFactory().get("/api/v1/tokens"))
