"""The check on the warm path: a `Check` built once when a credential enters the cache (no SQL
per request after that), called with each request of the credential.

State that must outlive a cache entry (a window's counts, a lease of credits) lives in this
module's tables, keyed by the credential and the limit, so a dropped and refilled entry goes
on counting where it was. The sync thread (`tokens.limits.sync`) pushes what this process
counted and reads back what every process counted, in batches.

Rate limits: fixed cells of `window_seconds` aligned on the epoch (the same cells in every
process), read as a sliding window: the previous cell's total weighted by how much of it the
window still covers, plus the current cell's. Between two syncs a process may admit at most
its share (what was left at the last sync, divided by the processes counting), so processes
that cannot see each other's latest counts cannot together admit much beyond the limit.

Credits: taken from PostgreSQL in leases (one atomic UPDATE hands out a block and never more
than is left), spent in memory; the block shrinks as the balance does, so the credits other
processes hold unspent when one runs out are few.
"""

import math
import threading
import time

from django.conf import settings
from rest_framework import exceptions

from accounts.http import client_ip_from_meta

from . import rules

# Environ key (never an HTTP header): this request's RateLimit-Policy and RateLimit headers, as
# the response's header store keeps them ((name, value) entries; the middleware stores them).
HEADERS = "keyward.ratelimit"
POLICY_HEADER = "RateLimit-Policy"
STATE_HEADER = "RateLimit"

_lock = threading.Lock()
# Taken without `with` where each request takes it (its __exit__ is a generic call).
_acquire, _release = _lock.acquire, _lock.release
_windows = {}  # (credential key, limit name) -> Window
_credits = {}  # (limits id, version) -> Credits
_VERDICTS_MAX = 4096


class LimitExceeded(exceptions.Throttled):
    """429 in the API's error format, with Retry-After when a wait is known."""

    def __init__(self, code, detail, wait):
        exceptions.APIException.__init__(self, {"code": code, "detail": detail}, code)
        self.wait = wait


class AddressRefused(exceptions.PermissionDenied):
    def __init__(self, seen):
        super().__init__(
            {
                "code": "ip_not_allowed",
                "detail": f"Requests from {seen or 'an unknown address'} are not allowed for this "
                "credential: its allowlist does not include that address.",
            }
        )


class Cell:
    """One fixed cell of one rate limit, in this process. Lock-free, one writer per field: the
    request thread writes `count`; the sync thread writes `total` (every process's count, ours
    included, at the last sync), then `mine` (how much of `count` that total holds), then
    `allowance`. A reader between the first two writes over-counts, never under-counts."""

    __slots__ = ("allowance", "count", "mine", "start", "total")

    def __init__(self, start, allowance):
        self.start = start
        self.count = 0
        self.total = 0
        self.mine = 0
        self.allowance = allowance  # what this process may count in it before the next sync

    def used(self):
        return self.total + self.count - self.mine


class Window:
    """One rate limit of one credential, in this process: its current and previous cells."""

    __slots__ = (
        "cell",
        "cost",
        "ends",
        "key",
        "label",
        "limit",
        "name",
        "notice_id",
        "noticed",
        "prev",
        "second",
        "tail",
        "tick",
        "width",
    )

    def __init__(self, key, name, limit, width, cost, notice_id):
        self.key, self.name, self.limit, self.width, self.cost = key, name, limit, width, cost
        self.notice_id = notice_id
        self.label = f'"{name}";r='  # the RateLimit header's item, up to its remaining count
        self.cell = Cell(-width, 0)
        self.prev = None
        self.noticed = -1
        # The clock's current whole second [second, tick), and what only changes with it: the
        # current cell's end and the header item's `t`. Empty until the first request.
        self.second = self.tick = 0
        self.ends = width
        self.tail = ""

    def _tick(self, now):
        """Once a second (or when the clock steps back): the cell the second is in, rolled to when
        it is a new one, its end, and the RateLimit item's `t` (seconds to that end)."""
        second = int(now)
        width = self.width
        start = second // width * width
        if self.cell.start != start:
            self.roll(start)
        self.second, self.tick, self.ends = second, second + 1, start + width
        self.tail = f";t={start + width - second}"

    def roll(self, start):
        """The request thread moves to the cell starting at `start`."""
        old = self.cell
        cell = Cell(start, max(self.cost, self.limit // _processes()))
        self.prev = old if old.start == start - self.width else None
        self.cell = cell
        return cell

    def admit(self, now):
        """The remaining requests after admitting this one, or -1 when it is refused."""
        if not self.second <= now < self.tick:
            self._tick(now)
        cell, prev = self.cell, self.prev
        used = cell.total + cell.count - cell.mine
        if prev is not None:
            used += (prev.total + prev.count - prev.mine) * (self.ends - now) / self.width
        cost = self.cost
        left = self.limit - used - cost
        if left >= 0 and cell.count + cost <= cell.allowance:
            cell.count += cost
            return int(left)
        return -1

    def wait(self, now):
        """Seconds until a refused request could be admitted."""
        cell, prev, width = self.cell, self.prev, self.width
        current = cell.used()
        cost = self.cost
        previous = prev.used() if prev is not None else 0
        elapsed = now - cell.start
        if current + previous * (width - elapsed) / width + cost <= self.limit:
            return 1  # this process's share is spent until the next sync
        if current + cost > self.limit or not previous:
            return math.ceil(width - elapsed)  # the current cell alone is full
        # The previous cell's weight falls until what it leaves fits.
        fits = (self.limit - current - cost) / previous
        return max(1, math.ceil(width * (1 - fits) - elapsed))


def _processes():
    from . import sync

    return sync.processes()


def window(key, name, limit, width, cost, notice_id):
    """The process's window of this limit (kept across cache entries while it is unchanged)."""
    found = _windows.get((key, name))
    if found is None or (found.limit, found.width, found.cost) != (limit, width, cost):
        found = Window(key, name, limit, width, cost, notice_id)
        _windows[(key, name)] = found
    found.notice_id = notice_id
    return found


class Credits:
    """A lease of one credential's credits, in this process."""

    __slots__ = (
        "day",
        "ends",
        "exhausted_until",
        "interval",
        "leased",
        "limits_id",
        "refill",
        "start",
    )

    def __init__(self, limits_id, refill, interval, day):
        self.limits_id, self.refill, self.interval, self.day = limits_id, refill, interval, day
        self.leased = 0
        self.start = None  # the refill period the lease is of (None without a refill)
        # When that period ends (epoch seconds): never without a refill; with one, the first
        # request works the period out.
        self.ends = -math.inf if refill else math.inf
        self.exhausted_until = 0.0

    def spend(self, now):
        """Whether one more request may be admitted (a credit taken from this process's lease)."""
        if now >= self.ends:
            self._new_period(now)
        _acquire()  # one lock, uncontended in a sync worker: threaded workers must not overspend
        try:
            if self.leased >= 1:
                self.leased -= 1
                return True
        finally:
            _release()
        return self._lease_more(now)

    def _lease_more(self, now):
        if now < self.exhausted_until:
            return False
        from . import credits  # the database's side, only when the lease is spent

        credits.lease(self, now)
        with _lock:
            if self.leased >= 1:
                self.leased -= 1
                return True
        # Empty: ask the database again at most once a second (an admin may add credits).
        self.exhausted_until = min(now + 1.0, self.ends)
        return False

    def _new_period(self, now):
        import datetime as dt

        start, ends = rules.period(self.interval, self.day, dt.datetime.fromtimestamp(now, dt.UTC))
        with _lock:
            self.start, self.ends = start, ends.timestamp()
            self.leased = 0  # the refill replaced the balance this lease came from
            self.exhausted_until = 0.0

    def wait(self, now):
        """Seconds until the refill, or None without one (until an admin adds credits)."""
        return math.ceil(self.ends - now) if self.refill else None


def credits_of(limits_id, version, refill, interval, day):
    key = (limits_id, version)
    found = _credits.get(key)
    if found is None:
        with _lock:
            found = _credits.setdefault(key, Credits(limits_id, refill, interval, day))
    return found


class Allowlist:
    """One allowlist (a credential's or its organization's), judged per address once."""

    __slots__ = ("limits_id", "networks", "report_only")

    def __init__(self, limits_id, ranges, report_only):
        self.limits_id = limits_id
        self.networks = [rules.parse_range(r) for r in ranges]
        self.report_only = report_only

    def allows(self, text):
        ip = rules.address(text) if text else None
        return ip is not None and any(ip.version == n.version and ip in n for n in self.networks)


class Check:
    """A credential's limits, compiled: called with each of its requests' environ. Raises the
    refusal (403 ip_not_allowed, 429 rate_limited, 429 usage_exceeded) or returns, having left
    the RateLimit headers for the middleware."""

    __slots__ = ("allowlists", "behind_proxies", "credits", "policy", "verdicts", "windows")

    def __init__(self, *, windows=(), credits=None, allowlists=()):
        self.windows = tuple(windows)
        self.credits = credits
        self.allowlists = tuple(allowlists)
        self.verdicts = {}  # address -> (refused by, reported by)
        self.behind_proxies = bool(settings.TRUSTED_PROXY_COUNT)
        # RateLimit-Policy (draft-ietf-httpapi-ratelimit-headers): the same on every answer,
        # so its entry is made once. ASCII by construction: names are [a-z0-9_.-].
        self.policy = (
            POLICY_HEADER,
            ", ".join(f'"{w.name}";q={w.limit};w={w.width}' for w in self.windows),
        )

    def __call__(self, meta):
        """`meta`: the request's WSGI environ (its caller has it in hand: DRF's Request hands
        attributes through __getattr__, a slow read)."""
        if self.allowlists:
            seen = client_ip_from_meta(meta) if self.behind_proxies else meta.get("REMOTE_ADDR")
            verdict = self.verdicts.get(seen)
            if verdict is not ALLOWED:
                self._judge_address(seen, verdict)
        now = time.time()
        windows = self.windows
        if len(windows) == 1:  # the common case, without a list to join
            w = windows[0]
            left = w.admit(now)
            # The draft's `t` (seconds to the end of the current cell) is the window's `tail`.
            state = f"{w.label}{left if left > 0 else 0}{w.tail}"
            meta[HEADERS] = (self.policy, (STATE_HEADER, state))
            if left < 0:
                _refuse(w, now)
        elif windows:
            states = []
            for w in windows:
                left = w.admit(now)
                states.append(f"{w.label}{left if left > 0 else 0}{w.tail}")
                if left < 0:
                    meta[HEADERS] = (self.policy, (STATE_HEADER, ", ".join(states)))
                    _refuse(w, now)
            meta[HEADERS] = (self.policy, (STATE_HEADER, ", ".join(states)))
        if self.credits is not None and not self.credits.spend(now):
            wait = self.credits.wait(now)
            when = f" They refill in {wait} s." if wait is not None else " An admin can add more."
            raise LimitExceeded(
                "usage_exceeded",
                "This credential has used all its credits." + when,
                None if wait is None else wait - 1,
            )

    def _judge_address(self, seen, verdict):
        """Refuse or report an address the allowlists do not all allow (judged once per address)."""
        if verdict is None:
            refused = reported = None
            for allowlist in self.allowlists:
                if not allowlist.allows(seen):
                    if allowlist.report_only:
                        reported = reported or allowlist.limits_id
                    else:
                        refused = True
            verdict = ALLOWED if not (refused or reported) else (refused, reported)
            if len(self.verdicts) < _VERDICTS_MAX:
                self.verdicts[seen] = verdict
            if verdict is ALLOWED:
                return
        if verdict[0]:
            raise AddressRefused(seen)
        from . import sync

        sync.report_address(verdict[1], seen or "")


ALLOWED = (None, None)  # the verdict on an address every allowlist allows


def _refuse(w, now):
    """429 rate_limited for window `w`."""
    _notice_rate_limited(w)
    wait = w.wait(now)
    raise LimitExceeded(
        "rate_limited",
        f"Rate limit {w.name!r} allows {w.limit} request(s) per {w.width} s; try again in {wait} s.",
        wait - 1,  # the error handler answers Retry-After wait + 1
    )


def _notice_rate_limited(w):
    """credential.rate_limited, at most once per window per limit (this process's part; the
    sync thread's claim row makes it once across processes)."""
    start = w.cell.start
    if w.noticed == start or w.notice_id is None:
        return
    w.noticed = start
    from . import sync

    sync.notice(w.notice_id, "credential.rate_limited", w.key + ":" + w.name, start)
