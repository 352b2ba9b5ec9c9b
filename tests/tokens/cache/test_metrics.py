"""The counters the request path keeps in process memory reach Prometheus whole: on every
scrape, and from the log's reader at least once a poll (test_live_servers.py scrapes real
servers)."""

import threading

import pytest

from bench.live import samples
from tests.factories import bearer, issue
from tokens.cache import metrics

pytestmark = pytest.mark.django_db

TOKEN = "scrape-me"


def _scrape(client):
    return samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode())


HIT = 'keyward_credential_cache_lookups_total{result="hit"}'
OK = 'keyward_authentications_total{kind="personal",outcome="ok"}'
REVOKED = 'keyward_authentications_total{kind="bearer",outcome="token_revoked"}'


def test_every_scrape_shows_each_request_counted_once(api, client, dev, cache_on, settings):
    settings.METRICS_TOKEN = TOKEN
    _token, secret = issue(dev, scopes=["read.me"])
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200  # the miss that fills it
    before = _scrape(client)
    for _ in range(3):
        assert api.get("/api/v1/me", **bearer(secret)).status_code == 200
    after = _scrape(client)
    assert after[HIT] - before.get(HIT, 0.0) == 3
    assert after[OK] - before.get(OK, 0.0) == 3
    assert _scrape(client)[HIT] == after[HIT]  # a scrape publishes nothing twice


def test_a_refusal_is_counted_under_its_code(api, client, dev, cache_on, settings):
    settings.METRICS_TOKEN = TOKEN
    token, secret = issue(dev, scopes=["read.me"])
    token.revoke()
    before = _scrape(client).get(REVOKED, 0.0)
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 401
    assert _scrape(client)[REVOKED] - before == 1


def test_counts_from_many_threads_are_published_whole_while_publishing():
    found = metrics.tally(metrics._CACHE.labels("test-threads"))
    start = found.child._value.get()
    stop = threading.Event()

    def publish_meanwhile():
        while not stop.is_set():
            metrics.publish()

    def count():
        for _ in range(20_000):
            found.count()

    publisher = threading.Thread(target=publish_meanwhile)
    publisher.start()
    workers = [threading.Thread(target=count) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stop.set()
    publisher.join()
    metrics.publish()
    metrics._tallies.remove(found)
    assert found.child._value.get() - start == 80_000
