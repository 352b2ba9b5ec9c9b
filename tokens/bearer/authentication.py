"""DRF authentication: bearer tokens in one indexed query, and portal sessions
(API keys authenticate in `tokens.api_keys.authentication`).

The bearer path is the hottest code in Keyward. It costs one SQL query built
once per database alias (no ORM query building per request), refuses a
`kw_pat_` string with a bad checksum before asking the database, never reads
the request body or the query string for a token, and checks what DOT's stock
class does not: the owner's account is active and still a member, and the
scopes are cut to what the membership allows today.
"""

import collections
import datetime
import functools
import logging
import math
import time

from django.conf import settings
from django.db import connections
from django.db.models.base import ModelState
from rest_framework import authentication, exceptions

from accounts.models import User

from .. import scopes as catalog
from .. import secret_format
from ..cache import invalidation, metrics
from ..cache import store as credential_cache
from ..cache.store import bearer_tags
from ..limits import load as limits
from ..models import AccessToken, CredentialKind
from ..usage import counter as usage
from ..usage.counter import MARK as USAGE_MARK
from .lookup import aware, drop_unread, lookup, prefetch
from .principal import Principal, record_use

log = logging.getLogger(__name__)

_count_hit = metrics.CACHE_HIT.count

# What `admit` compares a credential's times against: seconds since the epoch, a float (no
# datetime is built on a request that is let in and writes nothing). Tests move it.
clock = time.time


def _moment(now):
    """`clock()`'s reading as the aware datetime the database and the error messages use."""
    return datetime.datetime.fromtimestamp(now, datetime.UTC)


def fail(code, detail):
    return exceptions.AuthenticationFailed(detail, code=code)


class TokenInURL(exceptions.APIException):
    """RFC 6750 §3.1: a token sent where it is never accepted is a malformed request, 400."""

    status_code = 400
    default_code = "invalid_request"
    default_detail = "Tokens are never accepted in the URL. Send it in the Authorization header."


def _read(header):
    """An Authorization header as this class reads it: (token, prefix). The token is None when
    the scheme is not Bearer, "" when nothing follows it. The prefix is the secret prefix this
    class checks: "" for tokens without a kw_ prefix (legacy imports and DOT's own), None for
    a kw_ kind another class reads, or when there is no token. (The arrival path reads the
    usual `Bearer kw_pat_…` header itself, before calling this for any other.)"""
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer":
        return None, None
    raw = raw.strip()
    if not raw.startswith("kw_"):
        return raw, ("" if raw else None)
    if raw.startswith(secret_format.PERSONAL_TOKEN):
        return raw, secret_format.PERSONAL_TOKEN
    if raw.startswith(secret_format.OAUTH_TOKEN):
        return raw, secret_format.OAUTH_TOKEN
    return raw, None


_PERSONAL_BEARER = "Bearer " + secret_format.PERSONAL_TOKEN
_sha256 = secret_format.SHA256


def _well_formed(raw, prefix):
    """`prefix` is what `_read` said (never None): a kw_ secret must pass its checksum."""
    return prefix == "" or secret_format.is_well_formed(raw, prefix)


class SentAhead(collections.namedtuple("SentAhead", "header digest sent sequence held")):
    """What send_lookup_ahead did for a request, kept in its environ: the Authorization header
    it read, the token's digest, whether the lookup went out, the cache sequence taken before
    either, and the entry the process's cache held for it (or None). Its repr names none of
    them: error reports print the environ. A tuple, made by `_sent_ahead` without a Python
    frame and unpacked where it is read (CPython 3.11 looks each named field up on the class,
    where unpacking is one specialized instruction): it is made on every bearer request."""

    __slots__ = ()

    def __repr__(self):
        return "<SentAhead>"


_sent_ahead = functools.partial(tuple.__new__, SentAhead)  # _sent_ahead((header, digest, …))


# The environ key (never an HTTP header: those are HTTP_…).
SENT_AHEAD = "keyward.bearer_sent_ahead"


def send_lookup_ahead(sender, environ=None, **kwargs):
    """request_started: for a well-formed bearer token this process cannot answer from
    memory, send the database lookup now, so its round trip overlaps Django's work until
    DRF authenticates (`lookup` reads the answer then). The request is answered exactly as
    without it; authentication only skips parsing the header a second time."""
    if environ is None:
        return  # ASGI: no environ, nothing sent ahead
    header = environ.get("HTTP_AUTHORIZATION")
    if not header:
        return
    # The usual header read and hashed here (secret_format.digest written out): two frames fewer
    # on every request; `_read` reads every other header.
    if header.startswith(_PERSONAL_BEARER):
        raw, prefix = header[7:].strip(), secret_format.PERSONAL_TOKEN
    else:
        raw, prefix = _read(header)
        if prefix is None:
            return
    try:
        digest = _sha256(raw.encode("utf-8")).hexdigest()
    except UnicodeError:
        return  # not from a WSGI server (latin-1 only): left to authentication as it was
    cache = invalidation.ready  # what active_cache() answered, without a call
    if cache is None:
        cache = invalidation.active_cache()
    sequence = None
    if cache is not None:
        held, sequence = cache.held(digest)
        if held is not None:  # a held digest is a stored token's: well-formed, no checksum
            environ[SENT_AHEAD] = _sent_ahead((header, digest, False, sequence, held))
            return
    if not _well_formed(raw, prefix):
        return  # refused by authentication, before any query
    sent = prefetch(connections["default"], digest)
    environ[SENT_AHEAD] = _sent_ahead((header, digest, sent, sequence, None))


def drop_unread_lookup(sender, **kwargs):
    """request_finished: a lookup sent ahead that nobody read is read and dropped."""
    drop_unread(connections["default"])


_new = object.__new__  # what User() and ModelState() come to, without their MRO walks


class _LoadedState(ModelState):
    """The state of an instance read from the default database, as class defaults: a fresh one
    per User costs no attribute writes (it is still its own: caches it fills stay its own)."""

    adding = False
    db = "default"


class _Cached:
    """A lookup's row as the cache keeps it, with the last use this process knows of, and what
    every request of this credential would otherwise work out again: its principal, its usage
    mark, when the clock starts refusing it, whether its owner refuses it whatever the clock."""

    __slots__ = (
        "counted",
        "ends",
        "expires",
        "last_used_at",
        "limits",
        "mark",
        "principal",
        "revoked_at",
        "row",
        "use_due",
    )

    def __init__(self, row):
        self.row = row
        self.revoked_at = aware(row[4])
        self.expires = aware(row[3])
        # When this row starts being refused, on `clock`'s scale (one float comparison per
        # request): the earlier of its revocation and its expiry, or always when its owner's
        # membership or account refuses it, which is in the row, not on the clock.
        ends = [when.timestamp() for when in (self.revoked_at, self.expires) if when is not None]
        refused = row[7] is None or row[8] != row[6] or not row[13]
        self.ends = -math.inf if refused else min(ends, default=math.inf)
        self.last_used_at = None
        self.use_due = -math.inf
        self.used(aware(row[5]))
        self.mark = usage.token_mark(row[1], row[0], row[18], row[6], self.revoked_at)
        self.limits = limits.for_bearer(row[1], row[0], row[18], row[6], row[19])  # None: none
        self.counted = metrics.outcome_counter(row[1], "ok")
        # request.auth for every request of this credential: built once, never written to.
        self.principal = Principal(
            kind=row[1],
            token_id=row[0],
            user_id=row[11],
            membership_id=row[7],
            organization_id=row[6],
            group_id=row[15],
            role=row[9],
            developer_access=row[10],
            scopes=catalog.effective(row[2], row[9], row[10]),
            reach=row[16],
            app_user_id=row[17],
        )

    def used(self, when):
        """The last use this process knows of, and when (on `clock`'s scale) the next one is
        due to be written."""
        self.last_used_at = when
        self.use_due = (
            -math.inf
            if when is None
            else when.timestamp() + settings.TOKEN_LAST_USED_INTERVAL_SECONDS
        )


class AccessTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer …` for every token kept as an AccessToken row.

    Personal tokens (`kw_pat_…`, and legacy imported ones), OAuth access tokens
    issued by django-oauth-toolkit and login tokens all resolve through the
    same digest lookup; the row's `kind` says which it is.
    """

    www_authenticate_realm = "api"
    use_cache = True  # the bench's cold row turns it off

    def authenticate(self, request):
        """The (user, principal) of the request's bearer token, None when it has none this
        class reads. Each refusal is counted under its code; `admit` counts the ones it lets in."""
        try:
            # DRF's Request would forward each read of META through __getattr__.
            meta = request._request.META
            header = meta.get("HTTP_AUTHORIZATION")
            if not header:
                if "access_token=" in meta.get("QUERY_STRING", ""):
                    raise TokenInURL()
                return None
            ahead = meta.get(SENT_AHEAD)
            if ahead is not None:
                sent_header, digest, _sent, sequence, held = ahead
                if sent_header is header:  # read and checked on arrival
                    if held is not None and self.use_cache:
                        # Held on arrival and nothing invalidated since (a revocation heard in
                        # between counts: then the cache is asked again); the warm path in as
                        # few calls as it takes.
                        if credential_cache.cache.generation == sequence:
                            _count_hit()
                            return self.admit(request, held, meta)
                        return self.authenticate_digest(request, digest)
                    return self.authenticate_digest(request, digest, ahead)
            raw, prefix = _read(header)
            if raw is None:
                return None
            if raw == "":
                raise fail("invalid_token", "The Authorization header has no token after 'Bearer'.")
            if raw.startswith(secret_format.REFRESH_TOKEN):
                raise fail(
                    "invalid_token",
                    "That is a refresh token; send it to /api/v1/auth/token, not as a Bearer token.",
                )
            if prefix is None:
                return None  # another kw_ kind (API key JWTs etc.) belongs to another class
            if not _well_formed(raw, prefix):  # the checksum refuses a typo before any query
                raise fail(
                    "invalid_token",
                    "The token is malformed or mistyped (its checksum does not match).",
                )
            return self.authenticate_digest(request, secret_format.digest(raw))
        except exceptions.AuthenticationFailed as exc:
            metrics.outcome("bearer", exc.get_codes())
            raise

    def authenticate_digest(self, request, digest, sent_ahead=None):
        """The principal for a token's digest: from memory when this process may trust it.
        `sent_ahead` is what `send_lookup_ahead` left in the request (its lookup is read here)."""
        cache = invalidation.active_cache() if self.use_cache else None
        entry = cache.get(digest) if cache is not None else None
        if entry is None:
            # Taken before the database was asked: a row read before an invalidation is not kept.
            if sent_ahead is not None and sent_ahead.sent:
                sequence = sent_ahead.sequence
            else:
                sequence = cache.generation if cache is not None else None
            row = lookup(connections["default"], digest)
            if row is None:
                raise fail(
                    "invalid_token", "The token is not valid."
                )  # never cached: no garbage fills it
            entry = _Cached(row)
            if cache is not None:
                cache.put(
                    digest,
                    entry,
                    bearer_tags(row[0], row[7], row[11], row[6], row[15], row[18]),
                    sequence,
                )
        return self.admit(request, entry, request._request.META)

    def admit(self, request, entry, meta):
        """Whether this credential may make this request, from memory or fresh from the
        database alike: the one place a per-credential check runs on every request. `meta` is
        the request's environ, which the caller has read already (through DRF's Request, each
        attribute read takes its slow path)."""
        meta[USAGE_MARK] = entry.mark  # usage's `seen`, made once per row
        now = clock()
        if entry.ends <= now:
            raise self.refusal(entry, now)
        if entry.limits is not None:  # tokens.limits: 403 ip_not_allowed, 429 rate_limited…
            entry.limits(meta)
        if entry.use_due <= now:
            moment = _moment(now)
            if record_use(AccessToken, entry.row[0], entry.last_used_at, moment, request):
                entry.used(moment)  # a cached row writes its last use once per interval too
        entry.counted()
        # A fresh User for this request, with its own instance and state, never a shared one
        # (a per-entry User was a third of an entry's memory). Its identity comes from the row,
        # the other fields have a blank User's values, and date_joined is left deferred (read,
        # it loads the real one). Set in the order Model.__init__ sets them, so the instance
        # keeps the class's shared key layout and never builds a dict of its own; built here,
        # not in a method: a call is a frame and a code object more, cold in the CPU's caches
        # on every request. test_in_process pins the fields to User's.
        row = entry.row
        user = _new(User)
        user._state = _new(_LoadedState)
        user.id = row[11]
        user.password = ""
        user.last_login = None
        user.is_superuser = False
        user.email = row[12]
        user.name = ""
        user.is_active = row[13]
        user.is_staff = False
        user.is_service_account = row[14]
        return user, entry.principal

    @staticmethod
    def refusal(entry, now):
        """Why `admit` refuses this row at `clock()`'s reading `now`: revoked, expired, or its
        owner gone (the times compared on the float scale `ends` was worked out on)."""
        revoked_at = entry.revoked_at
        if revoked_at is not None and revoked_at.timestamp() <= now:
            return fail(
                "token_revoked", f"The token was revoked at {revoked_at:%Y-%m-%dT%H:%M:%SZ}."
            )
        expires = entry.expires
        if expires is not None and expires.timestamp() <= now:
            return fail(
                "token_expired",
                f"The access token expired at {expires:%Y-%m-%dT%H:%M:%SZ}. "
                "Refresh it or create a new one.",
            )
        row = entry.row
        if row[7] is None or row[8] != row[6]:
            return fail(
                "invalid_token", "The token's owner is no longer a member of its organization."
            )
        return fail("invalid_token", "The token's owner is deactivated.")

    def authenticate_header(self, request):
        return f'Bearer realm="{self.www_authenticate_realm}"'


class SessionAuthentication(authentication.SessionAuthentication):
    """Portal users in the browsable API: their membership in the current organization decides."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        memberships = user.memberships.select_related("organization")
        org_id = request._request.session.get("org_id")
        membership = None
        if org_id:
            membership = memberships.filter(organization__public_id=org_id).first()
        if membership is None:
            membership = memberships.first()
        if membership is None:
            return user, Principal(
                kind=CredentialKind.SESSION,
                token_id=None,
                user_id=user.pk,
                membership_id=None,
                organization_id=None,
                group_id=None,
                role=None,
                developer_access=False,
                scopes=frozenset(),
            )
        return user, Principal(
            kind=CredentialKind.SESSION,
            token_id=None,
            user_id=user.pk,
            membership_id=membership.pk,
            organization_id=membership.organization_id,
            group_id=membership.organization.group_id,
            role=membership.role,
            developer_access=membership.developer_access,
            scopes=catalog.allowed_for(membership.role, membership.developer_access),
        )

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
