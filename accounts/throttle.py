"""One throttle for every door that takes a password or a client secret.

API login, portal login, admin login and password change reach it through the one
authentication backend (accounts.backends.EmailBackend: every `authenticate()` passes
there); OAuth client authentication at /o/token/, /o/revoke_token/ and /o/introspect/
through tokens.oauth.validator. They share the counters: per account (an email, or an
OAuth client id) and per client address.

An attempt is *reserved* — counted — before the secret is checked ("increment, then
check"), with one atomic statement: Redis INCR (in a Lua script, so the window's expiry is
set in the same step) when REDIS_URL is set, else one `INSERT … ON CONFLICT DO UPDATE …
RETURNING` on the accounts_throttlecounter table (PostgreSQL and SQLite alike). So N
parallel attempts make exactly min(N, limit) checks. A success gives the reservation back:
it clears the account's count (NIST SP 800-63B counts consecutive failures) and returns
its one unit of the address's count, so busy shared addresses are not locked out by
people who log in fine. A refused attempt returns the units it took from counters that
were not over their limit.

The counters live outside process memory and outside the request's transaction (they
are written in autocommit unless a caller holds a transaction open, which none does), so
a restart or a rolled-back request forgets nothing.
"""

import base64
import binascii
import hashlib
import math
import random
from functools import lru_cache
from urllib.parse import unquote

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import ThrottleCounter

TABLE = ThrottleCounter._meta.db_table
# About one reservation in this many also deletes counters whose window ended long ago.
PURGE_ONE_IN = 200


class Throttled(Exception):
    """Too many failed attempts for this account or from this address; try again in `retry_after` s.

    Deliberately not a PermissionDenied: Django's `authenticate()` would swallow that and
    answer "wrong password". Raised, it reaches the caller (the API and /o/ answer 429 with
    Retry-After, forms show a sentence) or, for a view that forgot, portal's middleware.
    """

    def __init__(self, retry_after):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after

    @property
    def sentence(self):
        minutes = max(1, math.ceil(self.retry_after / 60))
        return (
            "Too many failed attempts for this account or from this address. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )


# --- the two stores -------------------------------------------------------------------


class DatabaseCounters:
    """Counters in accounts_throttlecounter; each change is one atomic SQL statement."""

    def increment(self, key, now, window):
        with connection.cursor() as cursor:
            # The row is locked by the upsert until the statement (autocommit) ends, so
            # concurrent increments of one key queue and each sees its own count.
            cursor.execute(
                f'INSERT INTO {TABLE} ("key", "count", window_ends) VALUES (%s, 1, %s) '
                f'ON CONFLICT ("key") DO UPDATE SET '
                f'"count" = CASE WHEN {TABLE}.window_ends <= %s THEN 1 ELSE {TABLE}."count" + 1 END, '
                f"window_ends = CASE WHEN {TABLE}.window_ends <= %s THEN excluded.window_ends "
                f"ELSE {TABLE}.window_ends END "
                f'RETURNING "count", window_ends',
                [key, now + window, now, now],
            )
            count, window_ends = cursor.fetchone()
            if random.randrange(PURGE_ONE_IN) == 0:
                cursor.execute(f"DELETE FROM {TABLE} WHERE window_ends < %s", [now - window])
        return count, window_ends

    def give_back(self, key, now):
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE {TABLE} SET "count" = "count" - 1 WHERE "key" = %s AND "count" > 0 AND window_ends > %s',
                [key, now],
            )

    def clear(self, key):
        with connection.cursor() as cursor:
            cursor.execute(f'DELETE FROM {TABLE} WHERE "key" = %s', [key])

    def count(self, key, now):
        """Attempts counted against `key` in its current window (0 when none)."""
        row = ThrottleCounter.objects.filter(key=key, window_ends__gt=now).first()
        return row.count if row else 0

    def reset(self):
        """Forget every counter (tests)."""
        ThrottleCounter.objects.all().delete()


# INCR and the window's expiry in one step; PTTL tells when the window ends.
_INCREMENT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
"""
# DECR only a live counter: DECR of a missing key would create one without an expiry.
_GIVE_BACK = """
if redis.call('GET', KEYS[1]) and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


class RedisCounters:
    """Counters in Redis (REDIS_URL): INCR is atomic, and the key expires with its window."""

    prefix = "keyward:throttle:"

    def __init__(self, url):
        import redis  # installed with Django's Redis cache backend; only needed here

        self.client = redis.Redis.from_url(url)
        self._increment = self.client.register_script(_INCREMENT)
        self._give_back = self.client.register_script(_GIVE_BACK)

    def increment(self, key, now, window):
        count, pttl = self._increment(keys=[self.prefix + key], args=[int(window * 1000)])
        return int(count), now + max(int(pttl), 0) / 1000

    def give_back(self, key, now):
        self._give_back(keys=[self.prefix + key])

    def clear(self, key):
        self.client.delete(self.prefix + key)

    def count(self, key, now):
        """Attempts counted against `key` in its current window (0 when none): Redis expires it."""
        return int(self.client.get(self.prefix + key) or 0)

    def reset(self):
        keys = list(self.client.scan_iter(self.prefix + "*"))
        if keys:
            self.client.delete(*keys)


@lru_cache(maxsize=4)
def _redis_counters(url):
    return RedisCounters(url)


def counters():
    """Redis when REDIS_URL is set, the database otherwise; never process memory."""
    url = getattr(settings, "REDIS_URL", "")
    return _redis_counters(url) if url else DatabaseCounters()


# --- reserving an attempt ---------------------------------------------------------------


def account_key(account):
    # Hashed, so the counters never hold who tried to log in (or which client).
    normalized = (account or "").strip().lower()
    return "account:" + hashlib.sha256(normalized.encode()).hexdigest()[:40]


class Attempt:
    """A reserved attempt: call `succeeded()` once the secret checked out; a failure needs nothing."""

    def __init__(self, store, account, ip, now):
        self.store = store
        self.account = account
        self.ip = ip
        self.now = now

    def succeeded(self):
        if self.account:
            self.store.clear(self.account)
        if self.ip:
            self.store.give_back(self.ip, self.now)


def reserve(*, account, ip=None, account_limit=None):
    """Count one attempt against `account` and the address `ip`, or raise Throttled.

    Call it before checking the secret: a throttled attempt never reaches the hasher.
    `account` is an email or a namespaced id (`client:<client_id>`); None counts the
    address only. `account_limit` replaces LOGIN_FAILURES_PER_ACCOUNT (OAuth clients).
    """
    store = counters()
    now = timezone.now().timestamp()
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    limits = {}
    if account:
        limits[account_key(account)] = account_limit or settings.LOGIN_FAILURES_PER_ACCOUNT
    if ip:
        limits[f"ip:{ip}"] = settings.LOGIN_FAILURES_PER_IP
    waits, within = [], []
    for key, limit in limits.items():
        count, window_ends = store.increment(key, now, window)
        if count > limit:
            waits.append(window_ends - now)
        else:
            within.append(key)
    if waits:
        for key in within:
            store.give_back(key, now)
        raise Throttled(max(1, math.ceil(max(waits))))
    return Attempt(
        store, account_key(account) if account else None, f"ip:{ip}" if ip else None, now
    )


def reset():
    """Forget every counter (tests, and an operator lifting a lockout)."""
    counters().reset()


def basic_auth_user(header):
    """The user part of an HTTP Basic `Authorization` header (RFC 7617; for OAuth clients,
    RFC 6749 §2.3.1 form-encodes it), or None: whom a Basic attempt counts against."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, _ = decoded.partition(":")
    return unquote(user) if sep and user else None
