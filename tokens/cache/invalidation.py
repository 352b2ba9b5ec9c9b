"""Every process applies the database's invalidation log to its credential cache.

The database announces every change a cached answer depends on: triggers (migration
`tokens/0011_invalidation_log`) append the cache tags to drop — `token:<id>`, `key:<id>`,
`app:<id>`, `member:<id>`, `user:<id>`, `org:<id>`, `group:<id>` or `all` — to
`keyward_invalidation_log` in the writer's own transaction, whoever the writer is, and
`NOTIFY` a wake-up delivered at commit. No application code announces anything.

Each process follows the log on one daemon thread with its own connection (never Django's),
started lazily by `active_cache()` in the process that serves (so after gunicorn's fork):

- A `NOTIFY` only wakes it; it also reads the log on its own every
  CREDENTIAL_INVALIDATION_POLL_SECONDS, so a lost wake-up costs at most that long.
- Commit order is not sequence order: a row with a lower `seq` can become visible after a
  higher one. So each read asks for the rows above the highest `seq` it has seen *and* for
  the rows of every transaction that was still running at its previous read (the
  snapshot's in-progress list): a row below the high mark can only belong to one of those.
  Nothing is skipped, and nothing waits on unrelated long transactions.
- The cache is trusted only while reads succeed: from connecting, and until
  CREDENTIAL_INVALIDATION_STALE_SECONDS after the start of the last successful read. A lost
  connection empties it; a late read sends requests to the database until it catches up
  (fail closed). The TTL stays as a last backstop.
- After each read it records what it has applied (its snapshot) in `keyward_cache_receipt`,
  so a writer can wait until every live process has applied its change (tokens.cache.propagation).

SQLite has no triggers here, hence no cache.
"""

import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connections
from django.dispatch import receiver

from . import metrics
from .store import cache

log = logging.getLogger(__name__)

CHANNEL = "keyward_invalidation"  # the trigger's NOTIFY channel (tokens/0011_invalidation_log)
RECONNECT_SECONDS = 0.5  # a restarted database is followed again within about this long

_listener = None  # this process's Listener (None before the first use and after a fork)

_READ = """
WITH now AS (SELECT pg_current_snapshot() AS snapshot)
SELECT now.snapshot::text, log.seq, log.tags, extract(epoch FROM log.logged_at)
FROM now LEFT JOIN keyward_invalidation_log log
    ON log.seq > %(high)s OR log.xid = ANY(%(running)s::text[]::xid8[])
ORDER BY log.seq
"""

_RECEIPT = """
INSERT INTO keyward_cache_receipt (process, snapshot, applied_seq, seen_at)
VALUES (%(process)s, %(snapshot)s::pg_snapshot, %(high)s, clock_timestamp())
ON CONFLICT (process) DO UPDATE
SET snapshot = EXCLUDED.snapshot, applied_seq = EXCLUDED.applied_seq, seen_at = EXCLUDED.seen_at
"""


def channel():
    """`postgresql`, or None (SQLite: no log, so no way to follow other processes' writes)."""
    return "postgresql" if connections["default"].vendor == "postgresql" else None


# settings.CREDENTIAL_CACHE, read once: a settings read goes through LazyObject's Python-level
# __getattribute__ (~0.2 µs) and this is asked on every request. None: read it again
# (a test changed it).
_enabled = None


# The cache, once `active_cache()` has answered it: what a bearer request's arrival reads
# instead of calling it (a frame fewer on every request). None until then, and again whenever
# what `active_cache()` depends on changes: the setting, the listener stopped, a fork.
ready = None


@receiver(setting_changed)
def _forget_enabled(setting, **kwargs):
    global _enabled, ready
    if setting == "CREDENTIAL_CACHE":
        _enabled = ready = None


def active_cache():
    """The credential cache if this process may use one (starting its listener on first use),
    else None. While the log is not followed, the cache answers nothing."""
    global _enabled, ready
    enabled = _enabled
    if enabled is None:
        enabled = _enabled = bool(settings.CREDENTIAL_CACHE)
    if not enabled:
        return None
    listener = _listener
    if listener is None:
        listener = _start_listener()
    if not listener:
        return None
    ready = cache
    return cache


def _start_listener():
    global _listener
    with _start_lock:
        if _listener is None:
            _listener = Listener() if channel() else False
            if _listener:
                _listener.start()
    return _listener


_start_lock = threading.Lock()


def _after_fork():
    global _listener, _start_lock, ready
    _listener = ready = None
    _start_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


# --- following the log -----------------------------------------------------------------


def _running(snapshot):
    """The in-progress transaction ids of a `pg_snapshot`'s text form (`xmin:xmax:xip,…`)."""
    xip = snapshot.split(":", 2)[2]
    return xip.split(",") if xip else []


class LogReader:
    """Where this process stands in the log: the highest `seq` seen, and the transactions
    that were running at the last read (their rows may still appear below it)."""

    def __init__(self, conn, process):
        self.conn = conn
        self.process = process
        self.high = 0
        self.running = []
        self.snapshot = None

    def start(self):
        """Stand at the log's end: everything before is already in the database we will read."""
        row = self.conn.execute(
            "SELECT pg_current_snapshot()::text, coalesce(max(seq), 0) FROM keyward_invalidation_log"
        ).fetchone()
        self.snapshot, self.high = row
        self.running = _running(self.snapshot)
        self._confirm()

    def read(self):
        """Apply every row not applied yet; returns how many rows were applied."""
        rows = self.conn.execute(_READ, {"high": self.high, "running": self.running}).fetchall()
        snapshot = rows[0][0]
        tags, stamps = set(), []
        for _snapshot, seq, row_tags, logged_at in rows:
            if seq is None:
                continue
            tags.update(row_tags)
            stamps.append(float(logged_at))
            if seq > self.high:
                self.high = seq
        if tags:
            cache.invalidate(tags)
            now = time.time()
            for stamp in stamps:
                metrics.PROPAGATION_LAG.observe(max(0.0, now - stamp))
            metrics.INVALIDATIONS_RECEIVED.inc(len(stamps))
        self.snapshot = snapshot
        self.running = _running(snapshot)
        self._confirm()
        return len(stamps)

    def _confirm(self):
        self.conn.execute(
            _RECEIPT, {"process": self.process, "snapshot": self.snapshot, "high": self.high}
        )

    def leave(self):
        self.conn.execute("DELETE FROM keyward_cache_receipt WHERE process = %s", [self.process])


def _process_name():
    return f"{socket.gethostname()}:{os.getpid()}:{time.time():.0f}"


class Listener(threading.Thread):
    """This process's ear: connect, follow the log; on any failure distrust the cache and retry."""

    def __init__(self):
        super().__init__(name="keyward-invalidation", daemon=True)
        self.stopping = threading.Event()
        self.database = dict(connections["default"].settings_dict)  # read now: tests rename it
        self.process = _process_name()

    def run(self):
        while not self.stopping.is_set():
            try:
                self._follow()
            except Exception as exc:  # any failure means: stop trusting, reconnect
                log.warning("invalidation log lost: %s", exc.__class__.__name__)
            finally:
                if cache.listening:
                    cache.set_listening(False)
            self.stopping.wait(RECONNECT_SECONDS)

    def _connect(self):
        import psycopg

        db = self.database
        params = {
            "dbname": db["NAME"],
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
            "host": db.get("HOST") or None,
            "port": db.get("PORT") or None,
            "connect_timeout": (db.get("OPTIONS") or {}).get("connect_timeout", 3),
            "application_name": f"keyward-invalidation-listener-{os.getpid()}",
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        }
        return psycopg.connect(
            **{k: v for k, v in params.items() if v is not None}, autocommit=True
        )

    def _follow(self):
        poll = settings.CREDENTIAL_INVALIDATION_POLL_SECONDS
        stale = settings.CREDENTIAL_INVALIDATION_STALE_SECONDS
        listen = settings.CREDENTIAL_INVALIDATION_LISTEN
        with self._connect() as conn:
            if listen:
                conn.execute(f"LISTEN {CHANNEL}")
            reader = LogReader(conn, self.process)
            started = time.monotonic()
            reader.start()
            cache.set_listening(True)  # empty, and trusted from the log's end on
            cache.trust_until(started + stale)
            metrics.LISTENER_RECONNECTS.inc()
            try:
                while not self.stopping.is_set():
                    if listen:
                        # Drained to its end: a generator left suspended would keep the connection's lock.
                        woken = bool(list(conn.notifies(timeout=poll, stop_after=1)))
                    else:
                        woken = False
                        self.stopping.wait(poll)
                    started = time.monotonic()
                    reader.read()
                    cache.trust_until(started + stale)
                    (metrics.WAKEUPS if woken else metrics.POLLS).inc()
                    metrics.publish()  # the request path's counts, at least once a poll
            finally:
                if self.stopping.is_set():
                    reader.leave()


def stop_listener():
    """Stop this process's listener (tests, the bench's cold rows, graceful shutdown); the next
    use restarts it."""
    global _listener, ready
    listener = _listener
    _listener = ready = None
    if listener:
        listener.stopping.set()
        listener.join(timeout=5)
    cache.set_listening(False)


def wait_until_listening(timeout=10.0):
    """Start the listener if needed and wait for it to connect (tests and the bench)."""
    if active_cache() is None:
        return False
    deadline = time.monotonic() + timeout
    while not cache.listening and time.monotonic() < deadline:
        time.sleep(0.01)
    return cache.listening
