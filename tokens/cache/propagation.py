"""A revocation receipt: how many live processes have applied a write, and how fast.

The trigger that logs a change remembers its transaction id in the writing connection's
session (`keyward.invalidation_xid`). After an unsafe request, `PropagationMiddleware` asks
for it; when the request changed something a cache may hold, it waits — at most
CREDENTIAL_PROPAGATION_WAIT_SECONDS — until every live process's last read of the log
(`keyward_cache_receipt`, written by tokens.cache.invalidation) saw that transaction commit, and
says so: `Keyward-Propagated: 4/4 6ms` on every such response, and in the portal a message
("Revoked on all 4 workers in 6 ms"). A process counts as live while its receipt is younger
than the staleness bound plus a second; one that was killed drops out after that.
"""

import dataclasses
import logging
import time

from django.conf import settings
from django.contrib import messages
from django.db import DatabaseError, connections

from . import metrics

log = logging.getLogger(__name__)

HEADER = "Keyward-Propagated"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

_TAKE = (
    "SELECT current_setting('keyward.invalidation_xid', true),"
    " set_config('keyward.invalidation_xid', '', false)"
)
_COUNT = """
SELECT count(*) FILTER (WHERE pg_visible_in_snapshot(%s::xid8, snapshot)), count(*)
FROM keyward_cache_receipt
WHERE seen_at > clock_timestamp() - make_interval(secs => %s)
"""


@dataclasses.dataclass(frozen=True)
class Receipt:
    confirmed: int
    live: int
    milliseconds: int

    @property
    def complete(self):
        return self.confirmed >= self.live

    def header(self):
        return f"{self.confirmed}/{self.live} {self.milliseconds}ms"

    def sentence(self, verb="Applied"):
        if self.live == 0:
            return f"{verb} at once: no worker keeps credentials in memory."
        workers = "worker" if self.live == 1 else "workers"
        if self.complete:
            return f"{verb} on all {self.live} {workers} in {self.milliseconds} ms."
        missing = self.live - self.confirmed
        return (
            f"{verb} on {self.confirmed} of {self.live} {workers} within {self.milliseconds} ms; "
            f"{missing} had not confirmed yet (each drops the change within "
            f"{settings.CREDENTIAL_INVALIDATION_STALE_SECONDS:g} s or stops answering from memory)."
        )


def _live_seconds():
    return settings.CREDENTIAL_INVALIDATION_STALE_SECONDS + 1.0


def wait(xid, timeout=None):
    """Wait until every live process has applied transaction `xid` (or `timeout` passes)."""
    timeout = settings.CREDENTIAL_PROPAGATION_WAIT_SECONDS if timeout is None else timeout
    started = time.monotonic()
    pause = 0.0005
    with connections["default"].cursor() as cursor:
        while True:
            cursor.execute(_COUNT, [xid, _live_seconds()])
            confirmed, live = cursor.fetchone()
            elapsed = time.monotonic() - started
            if confirmed >= live or elapsed >= timeout:
                break
            time.sleep(min(pause, max(0.0, timeout - elapsed)))
            pause = min(pause * 2, 0.05)
    receipt = Receipt(confirmed, live, round(elapsed * 1000))
    metrics.PROPAGATION_WAIT.observe(elapsed)
    if not receipt.complete:
        metrics.PROPAGATION_UNCONFIRMED.inc()
        log.warning(
            "change %s confirmed by %s of %s processes within %s ms",
            xid,
            confirmed,
            live,
            receipt.milliseconds,
        )
    return receipt


def receipt_for(request):
    """The receipt of what `request` changed, waiting for it once (None when it changed
    nothing a cache may hold, or on SQLite)."""
    if hasattr(request, "_keyward_receipt"):
        return request._keyward_receipt
    request._keyward_receipt = None
    connection = connections["default"]
    if connection.vendor != "postgresql" or connection.connection is None:
        return None
    if connection.in_atomic_block:
        return None  # not committed yet: nothing to confirm
    try:
        with connection.cursor() as cursor:
            cursor.execute(_TAKE)
            xid = cursor.fetchone()[0]
        if xid:
            request._keyward_receipt = wait(xid)
    except DatabaseError:
        log.warning("could not read the propagation receipt", exc_info=True)
    return request._keyward_receipt


def confirm(request, verb):
    """For a portal view: wait for the receipt now and say it in a message beside the view's own."""
    receipt = receipt_for(request)
    if receipt is not None:
        request._keyward_receipt_said = True
        messages.info(request, receipt.sentence(verb))
    return receipt


class PropagationMiddleware:
    """Every unsafe request that changed what a cache may hold answers Keyward-Propagated;
    a portal page that did not say it itself gets the receipt as a message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method in _SAFE:
            return response
        receipt = receipt_for(request)
        if receipt is None:
            return response
        response[HEADER] = receipt.header()
        if (
            not getattr(request, "_keyward_receipt_said", False)
            and hasattr(request, "_messages")
            and not request.path.startswith(("/api/", "/o/"))
            and 300 <= response.status_code < 400
        ):
            messages.info(request, receipt.sentence())
        return response


def prune_log(*, now):
    """Scheduler job: forget log rows and stopped processes' receipts older than the retention."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return "no invalidation log (not PostgreSQL)"
    retention = settings.CREDENTIAL_INVALIDATION_LOG_RETENTION_SECONDS
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM keyward_invalidation_log WHERE logged_at < %s - make_interval(secs => %s)",
            [now, retention],
        )
        rows = cursor.rowcount
        cursor.execute(
            "DELETE FROM keyward_cache_receipt WHERE seen_at < %s - make_interval(secs => %s)",
            [now, retention],
        )
    return f"{rows} invalidation log row(s) pruned"
