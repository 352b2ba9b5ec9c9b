"""Credits in PostgreSQL: the one truth of a balance. A process takes a lease (a block of
credits) with one atomic UPDATE that never hands out more than is left, spends it in memory,
and gives back what it did not spend when it exits. So the credits admitted across every
process never exceed the balance; how close to it they come depends on the blocks still held
when one process runs out, and blocks shrink as the balance does (LEASE_SHARE)."""

import datetime as dt
import logging

from django.db import DatabaseError, connection

from . import check

log = logging.getLogger(__name__)

LEASE_MAX = 10_000  # credits: the most a lease takes at once (one UPDATE per this many requests)
LEASE_SHARE = 64  # a lease takes at most 1/LEASE_SHARE of what was left at the last one

# Lease first, thresholds after: `refill` replaces the balance at a new period's first lease.
_LEASE = """
WITH current AS (
    SELECT limits_id,
        CASE WHEN %(refill)s::bigint IS NOT NULL AND period_start < %(start)s
             THEN %(refill)s::bigint ELSE remaining END AS available,
        CASE WHEN %(refill)s::bigint IS NOT NULL AND period_start < %(start)s
             THEN %(refill)s::bigint ELSE period_credits END AS credits
    FROM tokens_creditbalance WHERE limits_id = %(id)s FOR UPDATE
)
UPDATE tokens_creditbalance b
SET remaining = current.available - LEAST(current.available, %(want)s),
    period_credits = current.credits,
    period_start = CASE WHEN %(refill)s::bigint IS NOT NULL AND b.period_start < %(start)s
                        THEN %(start)s ELSE b.period_start END
FROM current WHERE b.limits_id = current.limits_id
RETURNING LEAST(current.available, %(want)s), b.remaining, b.period_credits
"""

_known = {}  # limits id -> the balance left at this process's last lease


def lease(state, now):
    """Take a block for `state` (a check.Credits) from the database; on failure take nothing
    (refusing is the safe side: credits are never overspent)."""
    left = _known.get(state.limits_id)
    # The first lease of a process takes one credit and learns the balance from it.
    want = 1 if left is None else max(1, min(LEASE_MAX, left // LEASE_SHARE))
    start = state.start if state.refill else dt.datetime.fromtimestamp(0, dt.UTC)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                _LEASE,
                {"id": state.limits_id, "want": want, "refill": state.refill, "start": start},
            )
            row = cursor.fetchone()
    except DatabaseError:
        log.exception("credits lease failed for limits %s", state.limits_id)
        return 0
    if row is None:
        return 0
    taken, remaining, period_credits = row
    _known[state.limits_id] = remaining
    with check._lock:
        state.leased += taken
    if taken:
        _thresholds(state, remaining, period_credits)
    return taken


THRESHOLDS = (80, 90, 100)


def _thresholds(state, remaining, period_credits):
    """credential.credits_low once each share of the period's credits is used (the sync thread
    claims and sends it, off the request)."""
    if not period_credits:
        return
    used = 100 * (period_credits - remaining) / period_credits
    period = int(state.start.timestamp()) if state.start is not None else 0
    from . import sync

    for threshold in THRESHOLDS:
        if used >= threshold:
            sync.notice(state.limits_id, "credential.credits_low", str(threshold), period)


def give_back(states):
    """Return unspent leases (at exit): one UPDATE per balance, only into the period they are of."""
    with connection.cursor() as cursor:
        for state in states:
            with check._lock:
                n, state.leased = state.leased, 0
            if n <= 0:
                continue
            if state.refill:
                cursor.execute(
                    "UPDATE tokens_creditbalance SET remaining = remaining + %s "
                    "WHERE limits_id = %s AND period_start = %s",
                    [n, state.limits_id, state.start],
                )
            else:
                cursor.execute(
                    "UPDATE tokens_creditbalance SET remaining = remaining + %s WHERE limits_id = %s",
                    [n, state.limits_id],
                )
