"""Telling every process that a credential's answer may have changed.

Writers `publish` tags — `token:<id>`, `key:<id>`, `app:<id>`, `member:<id>`,
`user:<id>`, `org:<id>`, `group:<id>` or `all` — which drops them from this
process's cache at once (so the writing worker and same-process tests never see a
stale row, even when the transaction never commits) and, after commit, sends them
to every other process: PostgreSQL `NOTIFY` by default (no new component), Redis
pub/sub when REDIS_URL is set. SQLite has no channel, hence no cache.

Each process hears them on one daemon thread with its own connection (never
Django's), started lazily by `active_cache()` in the process that serves (so after
gunicorn's fork). The cache is trusted only while that thread is connected
(`CredentialCache.set_listening`); a lost connection empties it and sends requests
to the database until the thread is listening again.

Most writers never call `publish` themselves: `tokens.audit` publishes for every
audited change, `AccessToken.revoke()` for DOT's own revocations, and
`tokens.admin` for admin edits of users, memberships, organizations and groups.
"""

import contextlib
import logging
import os
import threading
import time

from django.conf import settings
from django.db import connections, transaction

from . import metrics
from .credential_cache import cache

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 0.5  # a restarted database is heard again within about this long
HEARTBEAT_SECONDS = 5.0  # a silently dead link is found within about this long
_PAYLOAD_LIMIT = 7900  # NOTIFY payloads are at most 8000 bytes

_listener = None  # this process's Listener (None before the first use and after a fork)


def channel():
    """`redis`, `postgresql`, or None (SQLite without Redis: no way to tell other processes)."""
    if settings.REDIS_URL:
        return "redis"
    if connections["default"].vendor == "postgresql":
        return "postgresql"
    return None


def active_cache():
    """The credential cache if this process may use one (starting its listener on first use),
    else None. While the listener is not connected, the cache answers nothing."""
    if not settings.CREDENTIAL_CACHE:
        return None
    listener = _listener
    if listener is None:
        listener = _start_listener()
    return cache if listener else None


def _start_listener():
    global _listener
    with _start_lock:
        if _listener is None:
            kind = channel()
            _listener = Listener(kind) if kind else False
            if _listener:
                _listener.start()
    return _listener


_start_lock = threading.Lock()


def _after_fork():
    global _listener, _start_lock
    _listener = None
    _start_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


# --- publishing ------------------------------------------------------------------------


def publish(*tags, using="default"):
    """Drop `tags` here now, and everywhere once the current transaction commits."""
    tags = sorted({str(tag) for tag in tags if tag})
    if not tags:
        return
    cache.invalidate(tags)
    kind = channel()

    def after_commit():
        cache.invalidate(tags)  # a request of this process may have re-read the row before commit
        if kind is None:
            return
        try:
            for payload in _payloads(tags):
                _send(kind, payload, using)
                metrics.INVALIDATIONS_PUBLISHED.inc()
        except Exception:
            # The write is committed; other processes now drop the row within the TTL at worst.
            metrics.INVALIDATION_PUBLISH_FAILURES.inc()
            log.exception("could not publish the invalidation of %s", " ".join(tags[:10]))

    transaction.on_commit(after_commit, using=using)


def _payloads(tags):
    """`<sent at, epoch seconds> tag tag …`, split so each stays under NOTIFY's limit."""
    stamp = f"{time.time():.6f}"
    chunk, size = [], len(stamp)
    for tag in tags:
        if chunk and size + 1 + len(tag) > _PAYLOAD_LIMIT:
            yield " ".join([stamp, *chunk])
            chunk, size = [], len(stamp)
        chunk.append(tag)
        size += 1 + len(tag)
    if chunk:
        yield " ".join([stamp, *chunk])


def _send(kind, payload, using):
    if kind == "postgresql":
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT pg_notify(%s, %s)", [settings.CREDENTIAL_INVALIDATION_CHANNEL, payload]
            )
    else:
        _redis().publish(settings.CREDENTIAL_INVALIDATION_CHANNEL, payload)


_redis_client = None


def _redis():
    global _redis_client
    if _redis_client is None:
        import redis

        _redis_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
    return _redis_client


# --- listening -------------------------------------------------------------------------


def receive(payload):
    """Apply one message from the channel."""
    stamp, _, rest = payload.partition(" ")
    tags = rest.split()
    if tags:
        cache.invalidate(tags)
    metrics.INVALIDATIONS_RECEIVED.inc()
    with contextlib.suppress(ValueError):  # a stamp-less message still invalidates
        metrics.PROPAGATION_LAG.observe(max(0.0, time.time() - float(stamp)))


class Listener(threading.Thread):
    """This process's ear: connect, listen, apply; on any failure distrust the cache and retry."""

    def __init__(self, kind):
        super().__init__(name=f"keyward-invalidation-{kind}", daemon=True)
        self.kind = kind
        self.stopping = threading.Event()
        self.database = dict(connections["default"].settings_dict)  # read now: tests rename it

    def run(self):
        listen = self._listen_postgresql if self.kind == "postgresql" else self._listen_redis
        while not self.stopping.is_set():
            try:
                listen()
            except Exception as exc:  # any failure means: stop trusting, reconnect
                log.warning(
                    "invalidation listener (%s) lost: %s", self.kind, exc.__class__.__name__
                )
            finally:
                if cache.listening:
                    cache.set_listening(False)
            self.stopping.wait(RECONNECT_SECONDS)

    def _connected(self):
        cache.set_listening(True)
        metrics.LISTENER_RECONNECTS.inc()

    def _listen_postgresql(self):
        import psycopg
        from psycopg import sql

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
        with psycopg.connect(
            **{k: v for k, v in params.items() if v is not None}, autocommit=True
        ) as conn:
            conn.execute(
                sql.SQL("LISTEN {}").format(
                    sql.Identifier(settings.CREDENTIAL_INVALIDATION_CHANNEL)
                )
            )
            self._connected()
            beat = time.monotonic()
            while not self.stopping.is_set():
                for note in conn.notifies(timeout=1.0):
                    receive(note.payload)
                if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                    conn.execute("SELECT 1")
                    beat = time.monotonic()

    def _listen_redis(self):
        import redis

        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=3,
            socket_timeout=10,
            health_check_interval=HEARTBEAT_SECONDS,
        )
        pubsub = client.pubsub()
        try:
            pubsub.subscribe(settings.CREDENTIAL_INVALIDATION_CHANNEL)
            # Trust only once Redis confirms the subscription: messages before it are not ours.
            deadline = time.monotonic() + 5
            while True:
                message = pubsub.get_message(timeout=1.0)
                if message and message["type"] == "subscribe":
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError("no subscription confirmation")
            self._connected()
            beat = time.monotonic()
            while not self.stopping.is_set():
                message = pubsub.get_message(timeout=1.0)
                if message and message["type"] == "message":
                    data = message["data"]
                    receive(data.decode() if isinstance(data, bytes) else data)
                if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                    pubsub.ping()
                    beat = time.monotonic()
        finally:
            pubsub.close()
            client.close()


def stop_listener():
    """Stop this process's listener (tests, and the bench's cold rows); the next use restarts it."""
    global _listener
    listener = _listener
    _listener = None
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
