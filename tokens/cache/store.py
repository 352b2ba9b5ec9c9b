"""Verified credentials answered from memory, per process.

An entry is what a database lookup returned for a credential that exists (a
bearer digest's row, an API key with its owner), never a verdict: expiry,
grace periods and revocation times are in it and are checked against the clock
at each use, exactly as on a fresh row. Unknown digests and key ids are never
stored, so nobody can fill the cache with garbage.

It is trusted only while this process follows the invalidation log
(`tokens.cache.invalidation`): until its listener is connected, from the moment it
loses it, and whenever its last successful read of the log is older than the
staleness bound, `get` answers nothing and `put` stores nothing (fail closed: the
database answers, as without a cache); a lost connection also drops the entries. Entries also die after
CREDENTIAL_CACHE_TTL_SECONDS whatever happens, and beyond CREDENTIAL_CACHE_SIZE the oldest
not answered lately go first.

A lookup that raced an invalidation must not store the row it read before it:
callers read `generation` before asking the database and hand it to `put`,
which stores nothing if any invalidation arrived in between.
"""

import os
import sys
import threading
import time
from collections import OrderedDict

from django.conf import settings

from . import metrics


class _Entry:
    __slots__ = ("dies", "tags", "used", "value")

    def __init__(self, value, tags, dies):
        self.value = value
        self.tags = tags
        self.dies = dies  # monotonic: stored + CREDENTIAL_CACHE_TTL_SECONDS, worked out once
        self.used = False  # answered since eviction last passed it (its second chance)


class CredentialCache:
    """A least-recently-used cache with a hard TTL and tag invalidation; one lock, because the
    listener thread invalidates while request threads read.

    Recency is the CLOCK approximation (second chance): an answer only marks its entry used,
    one attribute write on an object the request reads anyway, where moving it to the end of
    the order was a lock and a linked-list update on every request. Eviction, when `put` goes
    beyond CREDENTIAL_CACHE_SIZE, passes the oldest entries over once if they were used since
    (clearing the mark, moving them to the end) and drops the first that was not."""

    def __init__(self):
        self._entries = OrderedDict()
        self._by_tag = {}
        self._lock = threading.Lock()
        self.generation = 0  # moves on every invalidation and every loss or return of trust
        self.listening = False
        self._trusted_until = 0.0  # monotonic: the last read of the log + the staleness bound

    # --- the request side -----------------------------------------------------------

    def get(self, key):
        """The live entry's value, or None (also while not listening: then the database answers)."""
        now = time.monotonic()
        if not self.listening or now >= self._trusted_until:
            metrics.CACHE_BYPASS.count()
            return None
        entry = self._entries.get(key)
        if entry is None:
            metrics.CACHE_MISS.count()
            return None
        if now >= entry.dies:
            with self._lock:
                if self._entries.get(key) is entry:
                    self._remove(key)
            metrics.CACHE_MISS.count()
            return None
        entry.used = True
        metrics.CACHE_HIT.count()
        return entry.value

    def holds(self, key):
        """Whether `get` would answer `key` from memory (nothing counted, nothing moved)."""
        return self._live(key) is not None

    def held(self, key):
        """What `get` would answer (nothing counted), with the sequence it was read at: its
        holder may use it while `generation == sequence`, with no second lookup."""
        sequence = self.generation  # first: an invalidation after it shows in the comparison
        now = time.monotonic()
        if not self.listening or now >= self._trusted_until:
            return None, sequence
        entry = self._entries.get(key)
        if entry is None or now >= entry.dies:
            return None, sequence
        entry.used = True
        return entry.value, sequence

    def _live(self, key):
        now = time.monotonic()
        if not self.listening or now >= self._trusted_until:
            return None
        entry = self._entries.get(key)
        return entry if entry is not None and now < entry.dies else None

    def put(self, key, value, tags, sequence):
        """Store a row the database just returned, unless an invalidation arrived since `sequence`."""
        with self._lock:
            if (
                not self.listening
                or sequence != self.generation
                or time.monotonic() >= self._trusted_until
            ):
                return False
            if key in self._entries:
                self._remove(key)
            # Interned: entries of one owner, organization or group share their tag strings.
            tags = tuple(sys.intern(tag) for tag in tags)
            dies = time.monotonic() + settings.CREDENTIAL_CACHE_TTL_SECONDS
            self._entries[key] = _Entry(value, tags, dies)
            for tag in tags:
                self._by_tag.setdefault(tag, set()).add(key)
            entries = self._entries
            while len(entries) > settings.CREDENTIAL_CACHE_SIZE:
                oldest = next(iter(entries))
                passed = entries[oldest]
                if passed.used:
                    passed.used = False  # its second chance: to the end of the order
                    entries.move_to_end(oldest)
                else:
                    self._remove(oldest)
            return True

    # --- the invalidation side ------------------------------------------------------

    def invalidate(self, tags):
        """Drop every entry carrying one of `tags` (`all` drops everything)."""
        with self._lock:
            self.generation += 1
            if "all" in tags:
                self._entries.clear()
                self._by_tag.clear()
                return
            for tag in tags:
                for key in self._by_tag.pop(tag, ()):
                    self._remove(key)

    def trust_until(self, deadline):
        """The log was read: trust the entries until `deadline` (monotonic) unless read again."""
        self._trusted_until = deadline

    def trusted(self):
        """Whether `get` may answer now (following the log, and its last read recent enough)."""
        return self.listening and time.monotonic() < self._trusted_until

    def set_listening(self, listening):
        """The listener connected (trust from now on) or lost its connection (trust nothing)."""
        with self._lock:
            self.generation += 1
            self._entries.clear()
            self._by_tag.clear()
            self.listening = listening
            if not listening:
                self._trusted_until = 0.0
        metrics.LISTENER_CONNECTED.set(1 if listening else 0)

    def __len__(self):
        return len(self._entries)

    def _remove(self, key):
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]


cache = CredentialCache()


def _forget_after_fork():
    # A forked worker inherits the parent's entries but not its listener thread.
    cache.listening = False
    cache._trusted_until = 0.0
    cache._lock = threading.Lock()
    cache._entries.clear()
    cache._by_tag.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


def bearer_tags(token_id, membership_id, user_id, organization_id, group_id, application_id):
    """What can change a bearer row: the token, its owner's membership and account, its
    organization and group, and the OAuth client it was issued to."""
    tags = [f"token:{token_id}", f"org:{organization_id}"]
    if membership_id is not None:
        tags.append(f"member:{membership_id}")
    if user_id is not None:
        tags.append(f"user:{user_id}")
    if group_id is not None:
        tags.append(f"group:{group_id}")
    if application_id is not None:
        tags.append(f"app:{application_id}")
    return tags
