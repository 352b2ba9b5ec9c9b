"""Counting on the hot path: every request a credential makes is counted in memory, by
credential, minute, operation, status, scope, address and secret, and written only by a flush."""

import base64

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import bearer, issue, make_api_key, membership
from tokens.api_keys import services as api_key_services
from tokens.models import UsageMinute
from tokens.personal import services
from tokens.usage import counter

pytestmark = pytest.mark.django_db


def _only(counts):
    assert len(counts) == 1, counts
    return next(iter(counts.items()))


def test_a_request_is_counted_in_memory_and_nothing_is_written(api, dev):
    token, secret = issue(dev, scopes=["read.me"])
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200
    key, n = _only(counter.pending())
    assert n == 1
    assert key[1:] == (
        "personal",
        token.pk,
        token.organization_id,
        "GET /api/v1/me",
        200,
        "read.me",
        "127.0.0.1",
        False,
    )
    assert key[0] % 60 == 0
    assert UsageMinute.objects.count() == 0


def test_the_operation_is_the_route_template_not_the_path(api, dev):
    token, secret = issue(dev, scopes=["read.tokens"])
    api.get(f"/api/v1/tokens/{token.pk}", **bearer(secret))
    key, _ = _only(counter.pending())
    assert key[4] == "GET /api/v1/tokens/{id}"


def test_a_flush_writes_the_counts_and_adds_to_what_is_there(api, dev):
    token, secret = issue(dev, scopes=["read.me"])
    for _ in range(3):
        api.get("/api/v1/me", **bearer(secret))
    assert counter.flush() == 3
    api.get("/api/v1/me", **bearer(secret))
    assert counter.flush() == 1
    row = UsageMinute.objects.get()
    assert (row.credential_id, row.count, row.status) == (token.pk, 4, 200)
    assert counter.pending() == {}


def test_a_failed_flush_keeps_its_counts_for_the_next(api, dev, monkeypatch):
    _token, secret = issue(dev, scopes=["read.me"])
    api.get("/api/v1/me", **bearer(secret))
    from tokens.usage import storage

    def broken(counts):
        raise RuntimeError("database away")

    monkeypatch.setattr(storage, "write", broken)
    assert counter.flush() == 0
    monkeypatch.undo()
    assert sum(counter.pending().values()) == 1
    assert counter.flush() == 1
    assert UsageMinute.objects.get().count == 1


def test_a_missing_scope_is_counted_as_403_with_no_authorizing_scope(api, dev):
    _token, secret = issue(dev, scopes=["read.me"])
    assert api.get("/api/v1/tokens", **bearer(secret)).status_code == 403
    key, _ = _only(counter.pending())
    assert (key[5], key[6]) == (403, "")


def test_a_revoked_token_is_counted_as_401(api, dev):
    token, secret = issue(dev, scopes=["read.me"])
    services.revoke_token(token=token, by=dev)
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 401
    key, _ = _only(counter.pending())
    assert (key[1], key[2], key[5]) == ("personal", token.pk, 401)


def test_an_unknown_token_is_counted_for_nobody(api, dev):
    assert api.get("/api/v1/me", **bearer("not-a-token-we-know")).status_code == 401
    assert counter.pending() == {}


def test_a_rotated_tokens_old_secret_is_counted_as_the_previous_secret(api, dev):
    token, secret = issue(dev, scopes=["read.me"])
    services.rotate_token(token=token, grace="1h", by=dev)
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200
    key, _ = _only(counter.pending())
    assert key[8] is True


def _basic(key, secret):
    return {
        "HTTP_AUTHORIZATION": "Basic "
        + base64.b64encode(f"{key.key_id}:{secret}".encode()).decode()
    }


def test_an_api_keys_previous_secret_is_counted_apart_from_the_current(api, alice):
    key, old = make_api_key(alice, scopes=["read.me"])
    new = api_key_services.rotate_api_key(key=key, grace="1h", by=alice).secret.reveal()
    assert api.get("/api/v1/me", **_basic(key, old)).status_code == 200
    assert api.get("/api/v1/me", **_basic(key, new)).status_code == 200
    counts = counter.pending()
    assert sorted((k[1], k[2], k[8], n) for k, n in counts.items()) == [
        ("api_key", key.pk, False, 1),
        ("api_key", key.pk, True, 1),
    ]


def test_the_client_address_is_the_one_trusted_proxies_name(api, dev, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    _token, secret = issue(dev, scopes=["read.me"])
    api.get("/api/v1/me", HTTP_X_FORWARDED_FOR="203.0.113.9", **bearer(secret))
    key, _ = _only(counter.pending())
    assert key[7] == "203.0.113.9"


def test_counting_can_be_turned_off(api, dev, settings):
    settings.USAGE_COUNTING = False
    _token, secret = issue(dev, scopes=["read.me"])
    api.get("/api/v1/me", **bearer(secret))
    assert counter.pending() == {}


def test_a_portal_session_is_not_counted(client, dev):
    client.force_login(dev)
    client.get("/api/v1/me")
    assert counter.pending() == {}
    assert membership(dev) is not None
    assert timezone.now()


def test_counting_adds_no_query_to_a_request(api, dev):
    _token, secret = issue(dev, scopes=["read.me"])
    api.get("/api/v1/me", **bearer(secret))  # its last use is written once, now
    with CaptureQueriesContext(connection) as queries:
        api.get("/api/v1/me", **bearer(secret))
    assert queries.captured_queries, "the request asked nothing: the check below proves nothing"
    assert [q["sql"] for q in queries if "usage" in q["sql"].lower()] == []
    assert sum(counter.pending().values()) == 2


def test_no_count_is_lost_when_a_flush_takes_the_table_while_requests_count(settings):
    """The flusher thread takes the table while request threads count into it: every request
    is in exactly one take."""
    import sys
    import threading

    from django.http import HttpResponse
    from django.test import RequestFactory

    settings.USAGE_FLUSH_SECONDS = 0  # no flusher thread of its own: this test takes
    middleware = counter.UsageMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get("/api/v1/me")
    request.resolver_match = None
    request.META[counter.MARK] = ("personal", 1, 1, False)
    threads, per_thread = 4, 3000
    taken, running = [], threading.Event()

    def count():
        running.wait()
        for _ in range(per_thread):
            middleware(request)

    workers = [threading.Thread(target=count) for _ in range(threads)]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # hand the GIL over as often as CPython will
    try:
        for worker in workers:
            worker.start()
        running.set()
        while any(worker.is_alive() for worker in workers):
            taken.append(sum(counter.take().values()))
        taken.append(sum(counter.take().values()))
    finally:
        sys.setswitchinterval(switch)
    assert sum(taken) == threads * per_thread
    assert len([n for n in taken if n]) > 1, "no take ran while requests counted: proves nothing"
