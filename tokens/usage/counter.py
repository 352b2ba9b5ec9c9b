"""Counting on the hot path: a dict update in process memory, flushed in one batched upsert.

Authentication marks the request with the credential it found under `MARK` (`seen`; a
cached bearer token's mark is made once, by `token_mark`), also for a credential it then
refuses: revoked, expired, owner gone. The scope check (tokens.permissions) leaves the scopes
the operation accepts, whether the caller held them and the two scope headers, made once per
grant, under `CHECKED` (`checked`). `UsageMiddleware` counts the request once its status is
known, and says which scopes the operation accepts and which the credential has (GitHub's
`X-Accepted-OAuth-Scopes` and `X-OAuth-Scopes`).
Nothing here asks the database: a daemon thread per process flushes at most every
USAGE_FLUSH_SECONDS, and once more at exit.

Counting never decides anything: a request is answered the same whether or not its count
is ever written. A process killed with SIGKILL loses the counts it had not flushed yet;
a flush is one transaction, so what was flushed stays.
"""

import atexit
import logging
import os
import re
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connection

from accounts.http import client_ip_from_meta, header_key

log = logging.getLogger(__name__)

# Environ keys (never HTTP headers: those are HTTP_…). Error reports print the environ; these
# hold ids and scope names only.
MARK = "keyward.usage"
CHECKED = "keyward.scopes_checked"  # (the scopes the operation accepts, whether they were held)

# Beyond this many distinct keys waiting (the database refusing flushes for a long time),
# new keys are dropped rather than growing the process without bound.
MAX_PENDING_KEYS = 200_000

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_lock = threading.Lock()
# Taken without `with` on the hot path (its __exit__ is a generic call with three Nones).
_acquire, _release = _lock.acquire, _lock.release
_counts = {}  # key → [n]: a known key is counted in place, with the one lookup that found it
_operations = {}
_flusher = {"started": False}
_flush_lock = threading.Lock()
_dropped = [0]


def seen(request, kind, credential_id, organization_id, previous=False):
    """Authentication found this credential (whether or not it then lets the request in)."""
    request.META[MARK] = (kind, credential_id, organization_id, previous)


def checked(required, granted, held):
    """What the scope check leaves under CHECKED for the operation's scopes `required` and the
    caller's scopes `held`: `required`, whether they were `granted`, the `X-Accepted-OAuth-Scopes`
    and `X-OAuth-Scopes` headers as the response stores them, and the scopes as a count's key
    names them ("" when refused). Made once per grant the check remembers, so a request that is
    let in reuses it whole. Scope names are the catalog's: ASCII by construction."""
    return (
        required,
        granted,
        (_ACCEPTED_HEADER, ", ".join(required)),
        " ".join(required) if granted else "",
        _held_entry(held),
    )


def token_mark(kind, token_id, application_id, organization_id, revoked_at):
    """What `seen` records for a bearer token, worked out once per cached row: an OAuth access
    token counts for its client; a personal token with a revocation time is a rotated one's
    previous secret (refused once that time passed)."""
    if kind == "oauth":
        return ("oauth_client", application_id, organization_id, False)
    return (kind, token_id, organization_id, revoked_at is not None)


def _template(route):
    """`api/v1/tokens/(?P<pk>[^/.]+)$` → `/api/v1/tokens/{id}` (the OpenAPI document's spelling)."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
    path = path.replace("^", "").replace("$", "").replace("\\Z", "").replace("{pk}", "{id}")
    return "/" + path


def operation(method, match):
    """The operation a request called: its method and its route's template, computed once per route."""
    route = match.route if match is not None else ""
    key = (method, route)
    found = _operations.get(key)
    if found is None:
        found = f"{method if method in _METHODS else 'OTHER'} {_template(route) if route else '?'}"
        if method in _METHODS:  # a made-up method may not grow the table
            _operations[key] = found
    return found


def take():
    """Everything counted so far, and an empty table in its place."""
    global _counts
    with _lock:
        taken, _counts = _counts, {}
    # Nobody counts into `taken` now: a request reads `_counts` under the lock.
    return {key: slot[0] for key, slot in taken.items()}


def give_back(counts):
    """A flush that failed returns its counts, to be written by the next one."""
    with _lock:
        for key, n in counts.items():
            slot = _counts.get(key)
            if slot is not None:
                slot[0] += n
            elif len(_counts) < MAX_PENDING_KEYS:
                _counts[key] = [n]
            else:
                _dropped[0] += n


def pending():
    """A copy of what is counted and not flushed yet (tests, the bench)."""
    with _lock:
        return {key: slot[0] for key, slot in _counts.items()}


def flush():
    """Write what this process counted, in one transaction. Returns how many requests it wrote."""
    from . import storage  # models need the app registry; this module loads with the middleware

    with _flush_lock:
        counts = take()
        if not counts:
            return 0
        try:
            storage.write(counts)
        except Exception as exc:
            give_back(counts)
            log.exception("usage flush failed; %d key(s) kept for the next one", len(counts))
            if isinstance(exc, DatabaseError) and not connection.in_atomic_block:
                connection.close()  # a broken connection is replaced on the next flush
            return 0
        return sum(counts.values())


def _run_flusher():
    while True:
        time.sleep(settings.USAGE_FLUSH_SECONDS)
        flush()


def _start_flusher():
    """One daemon flush thread per process, started by its first count, so after gunicorn forks."""
    with _flush_lock:
        if _flusher["started"]:
            return
        _flusher["started"] = True
        threading.Thread(target=_run_flusher, name="keyward-usage-flush", daemon=True).start()
        if not _flusher.get("at_exit"):
            _flusher["at_exit"] = True
            atexit.register(flush)


def _after_fork():
    """A forked child starts with nothing counted (its parent writes its own) and no thread."""
    global _counts, _lock, _acquire, _release, _flush_lock
    _counts, _lock, _flush_lock = {}, threading.Lock(), threading.Lock()
    _acquire, _release = _lock.acquire, _lock.release
    _flusher["started"] = False


os.register_at_fork(after_in_child=_after_fork)


_ACCEPTED_HEADER = "X-Accepted-OAuth-Scopes"
_HELD_HEADER = "X-OAuth-Scopes"
# Written straight into the response's header store, as (name, value) entries made once
# (accounts.http.header_key).
_accepted_key = header_key(_ACCEPTED_HEADER)
_held_key = header_key(_HELD_HEADER)
_time = time.time


class UsageMiddleware:
    """Counts each request a credential made, once its status is known, and names the scopes
    the operation accepts and the credential has."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.enabled = settings.USAGE_COUNTING
        # Without trusted proxies the address is REMOTE_ADDR: read it without the general helper.
        self.behind_proxies = bool(settings.TRUSTED_PROXY_COUNT)

    def __call__(self, request):
        response = self.get_response(request)
        meta = request.META
        scopes = meta.get(CHECKED)  # `checked(…)`, left by the scope check
        if scopes is not None:
            store = response.headers._store
            store[_accepted_key] = scopes[2]
            store[_held_key] = scopes[4]
        mark = meta.get(MARK)
        if mark is None or not self.enabled:
            return response
        match = request.resolver_match
        method = request.method
        found = _operations.get((method, match.route if match is not None else ""))
        address = client_ip_from_meta(meta) if self.behind_proxies else meta.get("REMOTE_ADDR")
        key = (
            int(_time()) // 60 * 60,
            mark[0],
            mark[1],
            mark[2],
            found or operation(method, match),
            response.status_code,
            scopes[3] if scopes is not None else "",
            address or "",
            mark[3],
        )
        # One more for `key`: the whole cost of usage on the hot path (inlined, no call).
        _acquire()
        try:
            slot = _counts.get(key)
            if slot is not None:
                slot[0] += 1
            elif len(_counts) < MAX_PENDING_KEYS:
                _counts[key] = [1]
            else:
                _dropped[0] += 1
        finally:
            _release()
        if not _flusher["started"] and settings.USAGE_FLUSH_SECONDS:
            _start_flusher()
        return response


_held_entries = {}


def _held_entry(scopes):
    """A credential's scopes as the `X-OAuth-Scopes` entry lists them; a cached credential's
    set is the same object on every request, so this is a dict lookup after the first."""
    found = _held_entries.get(scopes)
    if found is None:
        found = (_HELD_HEADER, ", ".join(sorted(scopes)))
        if len(_held_entries) < 10_000:
            _held_entries[scopes] = found
    return found
