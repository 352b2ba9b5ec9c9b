"""Prometheus metrics for operators, and the endpoint that shows them.

The hot path counts in plain process memory (`Tally`: one C call, no lock, no Prometheus
code); `publish` moves those counts into the Prometheus counters after every read of the
invalidation log (at least once a second) and before every scrape.
`GET /metrics` is closed unless METRICS_TOKEN is set, and then answers only
`Authorization: Bearer <METRICS_TOKEN>` (compared in constant time). Each
process counts for itself; set PROMETHEUS_MULTIPROC_DIR (prometheus-client's
multi-process mode) to have any gunicorn worker answer for all of them.
"""

import hmac
import itertools
import os
import threading

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

AUTHENTICATIONS = Counter(
    "keyward_authentications",
    "API authentications by credential kind and outcome (`ok` or the error code).",
    ["kind", "outcome"],
)
_CACHE = Counter(
    "keyward_credential_cache_lookups",
    "Credential cache lookups: hit, miss, or bypass (the listener is not connected).",
    ["result"],
)


class Tally:
    """A count kept for one Prometheus counter child until `publish` adds it there.

    `count()` is `next()` of an `itertools.count`: one C call, atomic under the GIL, so
    threads lose no count and the hot path runs none of prometheus-client's code (a lock and
    two checks per increment, and cold in the CPU's caches on every request)."""

    __slots__ = ("_counter", "_published", "child", "count")

    def __init__(self, child):
        self.child = child
        self._counter = itertools.count()
        self.count = self._counter.__next__
        self._published = 0  # what `publish` took so far, its own reads included

    def publish(self):
        taken = self.count() + 1  # this read is counted too
        self.child.inc(taken - self._published - 1)
        self._published = taken


_tallies = []
_publishing = threading.Lock()


def tally(child):
    found = Tally(child)
    _tallies.append(found)
    return found


def publish():
    """Move every count made since the last call into its Prometheus counter."""
    with _publishing:
        for found in tuple(_tallies):
            found.publish()


CACHE_HIT = tally(_CACHE.labels("hit"))
CACHE_MISS = tally(_CACHE.labels("miss"))
CACHE_BYPASS = tally(_CACHE.labels("bypass"))
INVALIDATIONS_RECEIVED = Counter(
    "keyward_invalidations_received",
    "Invalidation log rows this process applied (each one a committed change's cache tags).",
)
WAKEUPS = Counter(
    "keyward_invalidation_wakeups", "Reads of the invalidation log that a NOTIFY woke."
)
POLLS = Counter(
    "keyward_invalidation_polls",
    "Reads of the invalidation log on the process's own clock (no NOTIFY within the interval).",
)
LISTENER_CONNECTED = Gauge(
    "keyward_invalidation_listener_connected",
    "1 while this process follows the invalidation log (its cache is in use), else 0.",
    multiprocess_mode="min",
)
LISTENER_RECONNECTS = Counter(
    "keyward_invalidation_listener_connects",
    "Times the invalidation listener (re)connected and started following the log.",
)
PROPAGATION_LAG = Histogram(
    "keyward_invalidation_lag_seconds",
    "From a change being logged in the database to this process dropping its entries.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
PROPAGATION_WAIT = Histogram(
    "keyward_propagation_wait_seconds",
    "How long a credential write waited for every live process to confirm it (Keyward-Propagated).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
PROPAGATION_UNCONFIRMED = Counter(
    "keyward_propagation_unconfirmed",
    "Credential writes that answered before every live process had confirmed them.",
)


_outcomes = {}  # (kind, code) → its Tally's count: labels() takes a lock and builds a key


def outcome_counter(kind, code):
    """The count of one authentication outcome (`code`: `ok` or a failure's code), to call
    once per authentication; a cached credential keeps its `ok` one."""
    key = (kind, code) if type(code) is str else (kind, str(code))
    count = _outcomes.get(key)
    if count is None:
        with _publishing:
            count = _outcomes.get(key)
            if count is None:
                count = _outcomes[key] = tally(AUTHENTICATIONS.labels(*key)).count
    return count


def outcome(kind, code):
    """Count one authentication: `code` is `ok` or the failure's code (ours: a short list)."""
    outcome_counter(kind, code)()


def _error(status, code, detail):
    return JsonResponse({"code": code, "detail": detail}, status=status)


@require_GET
def metrics_view(request):
    """Prometheus exposition, for a scraper holding METRICS_TOKEN."""
    expected = settings.METRICS_TOKEN
    if not expected:
        return _error(404, "not_found", "Not found.")
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode(), expected.encode()
    ):
        response = _error(401, "not_authenticated", "Send Authorization: Bearer <METRICS_TOKEN>.")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    publish()  # this process's counts; the others publish theirs within a second
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
