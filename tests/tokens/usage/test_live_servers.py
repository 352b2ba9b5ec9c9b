"""Counts are exact across processes: live gunicorn servers with several workers count
requests in memory and flush them, and the usage API reports exactly what was sent, by
operation, status, address and secret, within one flush. A worker stopped gracefully
writes what it had not flushed yet."""

import base64
import os
import signal
import time

import pytest
import requests
from django.db import connection

from bench.live import Server, database_url
from tests.factories import issue, make_api_key
from tokens.api_keys import services as api_key_services
from tokens.models import UsageMinute

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

FLUSH_SECONDS = 1
WITHIN = 15  # seconds the issue allows; one flush (1 s here) is what it takes


@pytest.fixture(scope="module")
def servers(django_db_setup, django_db_blocker):
    """Two servers of two workers each: four processes counting the same credentials."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    url = database_url(connection.settings_dict)
    env = {"USAGE_FLUSH_SECONDS": str(FLUSH_SECONDS)}
    started = [Server(database_url=url, workers=2, extra_env=env) for _ in range(2)]
    yield started
    for server in started:
        server.stop()


def _auth(secret):
    return f"Bearer {secret}"


def _basic(key, secret):
    return "Basic " + base64.b64encode(f"{key.key_id}:{secret}".encode()).decode()


def _usage(server, path, authorization, expect, deadline=WITHIN):
    """The usage answer once its total reaches `expect` (or the last one at the deadline)."""
    ends = time.monotonic() + deadline
    while True:
        body = server.get(path, authorization).json()
        if body["totals"]["requests"] >= expect or time.monotonic() > ends:
            return body
        time.sleep(0.2)


def test_requests_through_four_workers_are_reported_exactly_by_operation_and_status(servers, dev):
    token, secret = issue(dev, scopes=["read.me", "read.tokens"])
    _reader, reader = issue(dev, scopes=["read.tokens"])
    sent = {"GET /api/v1/me": 0, "GET /api/v1/conversations": 0}
    # New connections each time, so the servers' workers share the requests between them.
    for i in range(120):
        server = servers[i % 2]
        path = "/api/v1/me" if i % 3 else "/api/v1/conversations"
        requests.get(server.url + path, headers={"Authorization": _auth(secret)}, timeout=10)
        sent[f"GET {path}"] += 1
    body = _usage(servers[0], f"/api/v1/tokens/{token.pk}/usage", _auth(reader), 120)
    assert body["totals"]["requests"] == 120
    operations = {op["operation"]: op for op in body["operations"]}
    assert operations["GET /api/v1/me"]["statuses"] == [
        {"status": 200, "requests": sent["GET /api/v1/me"]}
    ]
    assert operations["GET /api/v1/conversations"]["statuses"] == [
        {"status": 403, "requests": sent["GET /api/v1/conversations"]}
    ]
    assert body["addresses"][0]["address"] == "127.0.0.1"
    assert body["addresses"][0]["requests"] == 120
    scopes = {item["scope"]: item["lastUsedAt"] for item in body["scopes"]}
    assert scopes["read.me"] is not None
    assert scopes["read.tokens"] is None  # the reader token read it, not this one


def test_the_previous_secret_during_an_overlap_is_reported_apart(servers, alice):
    key, old = make_api_key(alice, scopes=["read.me"])
    new = api_key_services.rotate_api_key(key=key, grace="1h", by=alice).secret.reveal()
    for i in range(30):
        servers[i % 2].get("/api/v1/me", _basic(key, old if i < 10 else new))
    _reader, reader = issue(alice, scopes=["read.api_keys"])
    body = _usage(servers[1], f"/api/v1/api-keys/{key.pk}/usage", _auth(reader), 30)
    assert body["totals"]["requests"] == 30
    assert body["totals"]["previousSecretRequests"] == 10


def test_a_worker_stopped_gracefully_writes_what_it_had_not_flushed(dev, transactional_db):
    url = database_url(connection.settings_dict)
    # A flush interval longer than the test: only the exit can write these counts.
    server = Server(database_url=url, workers=1, extra_env={"USAGE_FLUSH_SECONDS": "3600"})
    token, secret = issue(dev, scopes=["read.me"])
    try:
        for _ in range(7):
            server.get("/api/v1/me", _auth(secret))
        time.sleep(0.2)
        assert not UsageMinute.objects.filter(credential_id=token.pk).exists()
    finally:
        server.stop()
    assert (
        sum(UsageMinute.objects.filter(credential_id=token.pk).values_list("count", flat=True)) == 7
    )


def test_a_worker_killed_with_sigkill_keeps_what_it_flushed(dev, transactional_db):
    url = database_url(connection.settings_dict)
    server = Server(database_url=url, workers=1, extra_env={"USAGE_FLUSH_SECONDS": "1"})
    token, secret = issue(dev, scopes=["read.me"])
    try:
        for _ in range(5):
            server.get("/api/v1/me", _auth(secret))
        deadline = time.monotonic() + WITHIN
        while _written(token) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _written(token) == 5
        for pid in server.worker_pids():
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
    finally:
        server.stop()
    assert _written(token) == 5


def _written(token):
    return sum(UsageMinute.objects.filter(credential_id=token.pk).values_list("count", flat=True))
