"""The bearer lookup sent as a request arrives and read when authentication asks
(tokens.bearer.lookup.prefetch): the answer is the same, the connection is never found
busy by anything else, and a dead connection still heals. PostgreSQL only: elsewhere
nothing is sent ahead."""

import contextlib

import pytest
from django.core.signals import request_started
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from tests.factories import bearer, issue, other_connection, terminate_backend
from tokens import secret_format
from tokens.bearer import lookup as bearer_lookup
from tokens.bearer.authentication import SENT_AHEAD, send_lookup_ahead
from tokens.cache.store import cache

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def spied(monkeypatch):
    """What the lookup did: sent ahead (and whether it went out), answered in one go, or read."""
    seen = []
    real_prefetch, real_take = bearer_lookup.prefetch, bearer_lookup._PreparedLookup.take
    real_execute = bearer_lookup._PreparedLookup.execute

    def prefetch(conn, digest):
        sent = real_prefetch(conn, digest)
        seen.append(("sent" if sent else "not sent", digest))
        return sent

    def take(self, conn, sql, digest):
        seen.append(("read", digest))
        return real_take(self, conn, sql, digest)

    def execute(self, raw, sql, digest):
        seen.append(("asked", digest))
        return real_execute(self, raw, sql, digest)

    monkeypatch.setattr(bearer_lookup, "prefetch", prefetch)
    monkeypatch.setattr("tokens.bearer.authentication.prefetch", prefetch)
    monkeypatch.setattr(bearer_lookup._PreparedLookup, "take", take)
    monkeypatch.setattr(bearer_lookup._PreparedLookup, "execute", execute)
    return seen


@contextlib.contextmanager
def _receiver(replacement):
    """request_started calls `replacement` instead of send_lookup_ahead for the block."""
    uid = "keyward-send-lookup-ahead"
    request_started.disconnect(dispatch_uid=uid)
    request_started.connect(replacement, dispatch_uid=uid)
    try:
        yield
    finally:
        request_started.disconnect(dispatch_uid=uid)
        request_started.connect(send_lookup_ahead, dispatch_uid=uid)


def _row(digest):
    with connection.cursor() as cursor:
        cursor.execute(bearer_lookup._lookup_sql("default"), [digest])
        return cursor.fetchone()


def test_a_request_reads_the_lookup_it_sent_on_arrival(api, dev, spied):
    _token, secret = issue(dev)
    digest = secret_format.digest(secret)
    response = api.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 200
    assert response.json()["email"] == "dev@acme.test"
    assert spied == [("sent", digest), ("read", digest)]  # no second query
    assert connection.keyward_lookup.sent is None


def test_the_row_sent_ahead_is_the_row_asked_for(dev):
    token, secret = issue(dev)
    digest = secret_format.digest(secret)
    asked = bearer_lookup.lookup(connection, digest)
    assert bearer_lookup.prefetch(connection, digest)
    assert bearer_lookup.lookup(connection, digest) == asked
    assert asked[0] == token.pk and asked[12] == "dev@acme.test"
    assert bearer_lookup.prefetch(connection, "0" * 64)
    assert bearer_lookup.lookup(connection, "0" * 64) is None


def test_a_query_before_authentication_finds_the_connection_free(dev):
    _token, secret = issue(dev)
    digest = secret_format.digest(secret)
    assert bearer_lookup.prefetch(connection, digest)
    assert User.objects.filter(email="dev@acme.test").count() == 1  # drops the unread answer
    assert connection.keyward_lookup.sent is None
    assert bearer_lookup.lookup(connection, digest) == _row(digest)


def test_a_transaction_before_authentication_finds_the_connection_free(dev):
    _token, secret = issue(dev)
    digest = secret_format.digest(secret)
    assert bearer_lookup.prefetch(connection, digest)
    with transaction.atomic():  # switching autocommit off is no query, and must not fail
        User.objects.filter(email="dev@acme.test").update(name="Dev")
    assert User.objects.get(email="dev@acme.test").name == "Dev"
    assert bearer_lookup.lookup(connection, digest) == _row(digest)


def test_a_different_token_asked_for_is_looked_up_itself(dev):
    _token, first = issue(dev, name="first")
    _token, second = issue(dev, name="second")
    assert bearer_lookup.prefetch(connection, secret_format.digest(first))
    row = bearer_lookup.lookup(connection, secret_format.digest(second))
    assert row == _row(secret_format.digest(second))


def test_a_request_that_never_authenticates_leaves_the_connection_free(client, dev, spied):
    _token, secret = issue(dev)
    # The OAuth token endpoint is no DRF view: nobody reads the lookup sent ahead.
    response = client.post("/o/token/", {"grant_type": "nothing"}, **bearer(secret))
    assert response.status_code in (400, 401)
    assert ("sent", secret_format.digest(secret)) in spied
    assert connection.keyward_lookup.sent is None
    assert User.objects.count() >= 1


def test_nothing_is_sent_ahead_while_queries_are_watched(api, dev, spied):
    _token, secret = issue(dev)
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/me", **bearer(secret)).status_code == 200
    assert [q for q in queries if '"token_checksum" = ' in q["sql"]]  # seen like any query
    assert spied[0] == ("not sent", secret_format.digest(secret))


def test_what_was_sent_ahead_never_shows_the_secret_or_its_digest(api, dev, monkeypatch):
    """It lives in the request's environ, which error reports print."""
    _token, secret = issue(dev)
    seen = {}

    def keep(sender, environ=None, **kwargs):
        send_lookup_ahead(sender, environ=environ, **kwargs)
        seen.update(environ or {})

    with _receiver(keep):
        assert api.get("/api/v1/me", **bearer(secret)).status_code == 200
    shown = repr(seen[SENT_AHEAD]) + str(seen[SENT_AHEAD])
    assert secret not in shown and secret_format.digest(secret) not in shown


def test_nothing_is_sent_on_a_closed_connection(dev, spied):
    """A database that is down is met once, by authentication, not twice."""
    _token, secret = issue(dev)
    connection.close()
    assert not bearer_lookup.prefetch(connection, secret_format.digest(secret))
    assert connection.connection is None


def test_malformed_and_foreign_tokens_are_never_sent(api, dev, spied):
    _token, secret = issue(dev)
    mistyped = secret[:-1] + ("a" if secret[-1] != "a" else "b")
    assert api.get("/api/v1/me", **bearer(mistyped)).status_code == 401
    assert api.get("/api/v1/me", **bearer("kw_rt_" + "x" * 36)).status_code == 401
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION="Basic eDp5").status_code == 401
    assert spied == []


def test_a_lookup_sent_ahead_on_a_connection_that_dies_is_asked_again_on_a_fresh_one(dev, spied):
    """The lookup sent ahead stood in for the health check: when its answer never comes,
    the connection is replaced and the lookup asked again, as the health check would have."""
    _token, secret = issue(dev)
    digest = secret_format.digest(secret)
    expected = bearer_lookup.lookup(connection, digest)  # prepared: preparing would wait too
    spied.clear()
    old_pid = connection.connection.info.backend_pid
    connection.health_check_done = False
    with other_connection() as locker:
        # The lookup waits on the table's lock on the server while its backend is killed.
        locker.execute("BEGIN")
        locker.execute("LOCK TABLE tokens_accesstoken IN ACCESS EXCLUSIVE MODE")
        assert bearer_lookup.prefetch(connection, digest)
        assert connection.health_check_done  # no SELECT 1 of its own
        terminate_backend(old_pid)
        locker.execute("COMMIT")
    assert bearer_lookup.lookup(connection, digest) == expected
    assert connection.connection.info.backend_pid != old_pid
    assert [what for what, _ in spied] == ["sent", "read", "asked"]


def test_a_lookup_sent_ahead_that_was_no_health_check_reports_the_dead_connection(dev):
    from django.db import OperationalError

    _token, secret = issue(dev)
    digest = secret_format.digest(secret)
    bearer_lookup.lookup(connection, digest)  # prepared: preparing would wait on the lock too
    connection.health_check_done = True  # checked already in this request
    with other_connection() as locker:
        locker.execute("BEGIN")
        locker.execute("LOCK TABLE tokens_accesstoken IN ACCESS EXCLUSIVE MODE")
        assert bearer_lookup.prefetch(connection, digest)
        terminate_backend(connection.connection.info.backend_pid)
        locker.execute("COMMIT")
    with pytest.raises(OperationalError):  # the API answers 503 (DatabaseUnavailableMiddleware)
        bearer_lookup.lookup(connection, digest)
    connection.close()


def test_a_statement_the_server_forgot_is_prepared_again(dev):
    _token, secret = issue(dev)
    digest = secret_format.digest(secret)
    expected = bearer_lookup.lookup(connection, digest)
    with connection.cursor() as cursor:
        cursor.execute("DISCARD ALL")
    assert bearer_lookup.lookup(connection, digest) == expected
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert bearer_lookup.prefetch(connection, digest)
    assert bearer_lookup.lookup(connection, digest) == expected


def test_a_rollback_keeps_the_prepared_statement(dev):
    _token, secret = issue(dev)
    digest = secret_format.digest(secret)
    expected = bearer_lookup.lookup(connection, digest)
    with pytest.raises(RuntimeError), transaction.atomic():
        User.objects.update(name="x")
        raise RuntimeError
    assert bearer_lookup.lookup(connection, digest) == expected


def test_an_invalidation_after_the_lookup_was_sent_keeps_its_row_out_of_the_cache(
    api, dev, cache_on
):
    """The cache sequence is taken before the lookup goes out: a revocation published
    between the database's answer and authentication must not leave that answer cached."""
    _token, secret = issue(dev)
    digest = secret_format.digest(secret)

    def then_invalidate(sender, environ=None, **kwargs):
        send_lookup_ahead(sender, environ=environ, **kwargs)
        if environ and environ.get(SENT_AHEAD):
            cache.invalidate(["all"])  # as the listener does when a notification arrives

    with _receiver(then_invalidate):
        assert api.get("/api/v1/me", **bearer(secret)).status_code == 200
    assert not cache.holds(digest)
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200
    assert cache.holds(digest)  # without a race in between, the row is kept


def test_a_token_held_on_arrival_but_revoked_before_authentication_is_refused(api, dev, cache_on):
    """A digest the cache held when the request arrived is asked of the cache again when DRF
    authenticates: a revocation heard in between is never answered from memory."""
    token, secret = issue(dev)
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200
    assert cache.holds(secret_format.digest(secret))

    def then_revoke(sender, environ=None, **kwargs):
        send_lookup_ahead(sender, environ=environ, **kwargs)
        if environ and environ.get(SENT_AHEAD):
            token.revoke()
            cache.invalidate([f"token:{token.pk}"])  # as the listener does once it commits

    with _receiver(then_revoke):
        response = api.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 401
