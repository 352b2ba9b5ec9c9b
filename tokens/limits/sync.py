"""Convergence, off the request: one daemon thread per process (started by the first compiled
check, so after gunicorn forks) that every LIMITS_SYNC_MS

- adds what this process counted in each rate-limit cell to every process's total, and reads
  the totals back (Redis HINCRBY/HVALS when REDIS_URL is set, else one batched PostgreSQL
  upsert and one SELECT), with the number of processes counting (a heartbeat);
- writes the addresses a report-only allowlist would have refused;
- claims and sends credits_low / rate_limited notices (a unique row per notice: once across
  every process);
- and at exit gives back unspent credit leases.

Nothing here runs per request: a request only touches the dictionaries below.
"""

import atexit
import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction

from . import check

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 3.0  # a process silent this long no longer counts in the share

_start_lock = threading.Lock()
_pending_reports = {}  # (limits id, address) -> count
_pending_notices = set()  # (limits id, event, key, period)
_state = {
    "started": False,
    "pid": None,
    "process": None,
    "redis": None,
    "pruned": 0.0,
    "processes": 1,  # counting rate limits, as the last sync saw them
}


def processes():
    """How many processes count rate limits (a new window's share starts from it)."""
    return _state["processes"]


def process_name():
    if _state["process"] is None or _state["pid"] != os.getpid():
        _state["process"] = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        _state["pid"] = os.getpid()
    return _state["process"]


def report_address(limits_id, address):
    """A report-only allowlist let `address` through (written at the next sync)."""
    key = (limits_id, address)
    with check._lock:
        _pending_reports[key] = _pending_reports.get(key, 0) + 1


def notice(limits_id, event, key, period):
    with check._lock:
        _pending_notices.add((limits_id, event, key, period))


def ensure_started():
    """Start this process's thread (once per process; a forked child starts its own)."""
    if _state["started"] and _state["pid"] == os.getpid():
        return
    with _start_lock:
        if _state["started"] and _state["pid"] == os.getpid():
            return
        _state["started"], _state["pid"], _state["process"] = True, os.getpid(), None
        if settings.LIMITS_SYNC_MS <= 0:
            return  # the test suite syncs when it wants
        try:
            sync_windows(time.time(), hello=True)  # be counted before admitting anything
        except Exception:
            log.exception("limits: first sync failed")
        threading.Thread(target=_run, name="keyward-limits-sync", daemon=True).start()
        atexit.register(at_exit)


def _run():
    interval = settings.LIMITS_SYNC_MS / 1000
    while True:
        time.sleep(interval)
        try:
            sync_once()
        except Exception:
            log.exception("limits sync failed")
            if not connection.in_atomic_block:
                connection.close()


def sync_once(now=None):
    """One round: windows, reports, notices."""
    now = time.time() if now is None else now
    sync_windows(now)
    flush_reports()
    send_notices()


# --- Rate-limit cells ---------------------------------------------------------------------


def _active(now):
    """(window, cell) of every cell in use: each window's current one and the previous one
    its sliding window still reads, for windows used in the last two cells."""
    cells = []
    for w in list(check._windows.values()):
        cell, prev = w.cell, w.prev
        if cell.start + 2 * w.width < now:
            continue  # idle for two cells: nothing to learn or tell
        cells.append((w, cell))
        if prev is not None:
            cells.append((w, prev))
    return cells


def sync_windows(now, *, hello=False):
    """Add what this process counted to every process's totals and read them back."""
    active = _active(now)
    if not active and not hello:
        return
    # What each cell holds now; the request thread may count more meanwhile (next round's).
    counted = [(w, cell, cell.count) for w, cell in active]
    if settings.REDIS_URL:
        totals, processes = _redis_round(_redis(), counted, now)
    else:
        totals, processes = _database_round(counted, now)
    share = _state["processes"] = max(1, processes)
    for w, cell, n in counted:
        cell.total = max(totals.get((_cell(w), cell.start), 0), n)
        cell.mine = n  # after `total`: a reader in between over-counts, never under-counts
    for w, cell, n in counted:
        if cell is not w.cell:
            continue
        prev = w.prev
        used = cell.total
        if prev is not None:
            used += prev.used() * max(0.0, w.width - (now - cell.start)) / w.width
        # What this process may count before the next sync: its share of what is left.
        cell.allowance = n + max(w.cost, int((w.limit - used) / share))


def _cell(w):
    return f"{w.key}:{w.name}"


def _redis():
    if _state["redis"] is None or _state["redis"][0] != settings.REDIS_URL:
        import redis

        _state["redis"] = (
            settings.REDIS_URL,
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1),
        )
    return _state["redis"][1]


def _redis_round(store, counted, now):
    me = process_name()
    pipe = store.pipeline(transaction=False)
    # HSET, not HINCRBY: each process writes its own count of a cell, so a round that failed
    # half way is simply written again.
    for w, cell, n in counted:
        if n:
            name = f"kw:rl:{_cell(w)}:{cell.start}"
            pipe.hset(name, me, n)
            pipe.expire(name, 2 * w.width + 10)
    pipe.zadd("kw:rl:processes", {me: now})
    pipe.zremrangebyscore("kw:rl:processes", "-inf", now - HEARTBEAT_SECONDS)
    pipe.zcard("kw:rl:processes")
    cells = [(_cell(w), cell.start) for w, cell, _n in counted]
    for cell, start in cells:
        pipe.hvals(f"kw:rl:{cell}:{start}")
    answers = pipe.execute()
    values = answers[len(answers) - len(cells) :] if cells else []
    processes = answers[len(answers) - len(cells) - 1]
    totals = {cell: sum(int(v) for v in vals) for cell, vals in zip(cells, values, strict=True)}
    return totals, processes


_UPSERT = """
INSERT INTO tokens_ratelimitcell (key, "window", process, count, expires_at)
SELECT * FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::bigint[], %s::timestamptz[])
ON CONFLICT (key, "window", process)
DO UPDATE SET count = EXCLUDED.count, expires_at = EXCLUDED.expires_at
"""

_TOTALS = """
SELECT c.key, c."window", SUM(c.count)::bigint
FROM tokens_ratelimitcell c JOIN unnest(%s::text[], %s::bigint[]) AS q(key, "window")
  ON c.key = q.key AND c."window" = q."window"
GROUP BY c.key, c."window"
"""


def _database_round(counted, now):
    me = process_name()
    moment = dt.datetime.fromtimestamp(now, dt.UTC)
    # Each process writes its own count of a cell (not an increment): a retried round is harmless.
    rows = [
        (_cell(w), cell.start, me, n, moment + dt.timedelta(seconds=2 * w.width + 10))
        for w, cell, n in counted
        if n
    ]
    # The heartbeat is a cell of its own: one row per process, counted while fresh.
    rows.append(("~process", 0, me, 0, moment + dt.timedelta(seconds=HEARTBEAT_SECONDS)))
    cells = [(_cell(w), cell.start) for w, cell, _n in counted]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_UPSERT, [list(col) for col in zip(*rows, strict=True)])
        cursor.execute(
            "SELECT count(*) FROM tokens_ratelimitcell WHERE key = '~process' AND expires_at > %s",
            [moment],
        )
        processes = cursor.fetchone()[0]
        cursor.execute(_TOTALS, [[c for c, _s in cells], [s for _c, s in cells]])
        totals = {(key, start): total for key, start, total in cursor.fetchall()}
    if now - _state["pruned"] > 60:
        _state["pruned"] = now
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM tokens_ratelimitcell WHERE expires_at < %s", [moment])
    return totals, processes


# --- Report-only addresses ----------------------------------------------------------------


def flush_reports():
    global _pending_reports
    with check._lock:
        taken, _pending_reports = _pending_reports, {}
    if not taken:
        return 0
    now = dt.datetime.now(dt.UTC)
    try:
        with connection.cursor() as cursor:
            for (limits_id, address), n in taken.items():
                cursor.execute(
                    "INSERT INTO tokens_allowlistreport (limits_id, address, first_seen, last_seen, count) "
                    "SELECT %s, %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM tokens_limits WHERE id = %s) "
                    "ON CONFLICT (limits_id, address) DO UPDATE "
                    "SET last_seen = EXCLUDED.last_seen, count = tokens_allowlistreport.count + EXCLUDED.count",
                    [limits_id, address[:45], now, now, n, limits_id],
                )
    except DatabaseError:
        log.exception("report-only addresses not written; %d kept", len(taken))
        with check._lock:
            for key, n in taken.items():
                _pending_reports[key] = _pending_reports.get(key, 0) + n
        raise
    return sum(taken.values())


# --- Notices ------------------------------------------------------------------------------


def send_notices():
    global _pending_notices
    with check._lock:
        taken, _pending_notices = _pending_notices, set()
    from . import notices

    sent = 0
    for limits_id, event, key, period in sorted(taken, key=str):
        try:
            sent += notices.announce(limits_id, event, key, period)
        except IntegrityError:
            continue
    return sent


def at_exit():
    from . import credits

    latest = {}
    for (limits_id, version), state in list(check._credits.items()):
        if limits_id not in latest or version > latest[limits_id][0]:
            latest[limits_id] = (version, state)
    try:
        credits.give_back([state for _v, state in latest.values()])
        sync_once()
    except Exception:
        log.exception("limits: leases or counts not handed back at exit")
