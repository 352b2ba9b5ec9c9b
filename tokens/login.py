"""Login tokens: a person's email and password buy a JWT access token and a refresh token.

web1on1's flow and Qiscus's sessions, built to RFC 6749/6750/9700. A *session* is
one refresh-token family: it starts at login, every refresh rotates it (new pair,
old pair dead), and it ends at logout, revoke, revoke-all, reuse of a rotated
refresh token, or 30 days without a refresh.

Pairs are minted through django-oauth-toolkit's server and validator (hashed
storage, token families, rotation), against a first-party public application,
with our own generators: an Ed25519-signed JWT (tokens.jwt_keys) and a `kw_rt_`
refresh token. The access token row keeps only the digest, like every credential.
Every function here is keyword-only; the ones that write are atomic and audited.
"""

import datetime
import hashlib
import logging
import math
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OAuthRequest

from accounts.backends import EmailBackend
from accounts.errors import Refused
from accounts.models import Membership, Role, User

from . import jwt_keys, secret_format
from .models import AccessToken, Application, AuditEvent, Kind, Reach, RefreshToken
from .one_time import OneTimeSecret

log = logging.getLogger(__name__)

LOGIN_CLIENT_ID = Application.LOGIN_CLIENT_ID
# A rotated refresh token presented by a request that started before (or within this
# long after) the rotation is a concurrent duplicate from the same client, not a
# replay: it is refused without ending the session. Any later use ends the session.
CONCURRENT_REFRESH_WINDOW = datetime.timedelta(seconds=2)

BAD_CREDENTIALS = "The email and password do not match an account that may log in."


class LoginThrottled(Exception):
    """Too many failed logins for this account or from this address."""

    def __init__(self, retry_after):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass
class LoginPair:
    """A freshly issued pair; both secrets are readable once."""

    access_token: AccessToken
    refresh_token: RefreshToken
    token: OneTimeSecret
    refresh_secret: OneTimeSecret
    membership: Membership
    expires_at: datetime.datetime
    refresh_expires_at: datetime.datetime

    @property
    def scope(self):
        return self.access_token.scope


@dataclass(frozen=True)
class LoginSession:
    """One session as people see it: never a secret or a digest."""

    id: uuid.UUID
    organization_id: int
    created_at: datetime.datetime
    last_used_at: datetime.datetime
    ip: str | None
    user_agent: str
    expires_at: datetime.datetime
    access_token_id: int
    access_token_expires_at: datetime.datetime
    current: bool = False


# --- minting through django-oauth-toolkit ------------------------------------------


@dataclass
class _Issue:
    """What a login or refresh knows that oauthlib's request does not carry."""

    membership: Membership
    ip: str | None
    user_agent: str
    expires_at: datetime.datetime | None = None
    access_token: AccessToken | None = None
    refresh_token: RefreshToken | None = None
    raw: dict = field(default_factory=dict)


class LoginValidator(OAuth2Validator):
    """DOT's validator, writing the Keyward columns of a login token as it creates the row."""

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        issue = request.keyward
        access_token = AccessToken(
            kind=Kind.LOGIN,
            user=request.user,
            membership=issue.membership,
            organization=issue.membership.organization,
            scope=token["scope"],
            expires=issue.expires_at,  # exactly the JWT's `exp`, not DOT's later `now + expires_in`
            application=request.client,
            source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", None) or [],
            created_by=request.user,
            created_ip=issue.ip,
            user_agent=(issue.user_agent or "")[:255],
            last4=token["access_token"][-4:],
            reach=Reach.APP,
        )
        self._set_token_value(access_token, token["access_token"])
        access_token.save()
        issue.access_token = access_token
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous_refresh_token
        )
        request.keyward.refresh_token = refresh_token
        return refresh_token


@sensitive_variables()  # every local may hold a plaintext secret
def _access_token_generator(request):
    issue = request.keyward
    now = timezone.now()
    iat = int(now.timestamp())
    exp = iat + settings.LOGIN_ACCESS_TOKEN_LIFETIME_SECONDS
    issue.expires_at = datetime.datetime.fromtimestamp(exp, tz=datetime.UTC)
    claims = {
        "iss": settings.LOGIN_TOKEN_ISSUER,
        "sub": str(request.user.pk),
        "org": issue.membership.organization.public_id,
        "scope": " ".join(request.scopes),
        "iat": iat,
        "exp": exp,
        "jti": uuid.uuid4().hex,
    }
    token = jwt_keys.sign(claims)
    issue.raw["access"] = token
    return token


@sensitive_variables()  # every local may hold a plaintext secret
def _refresh_token_generator(request):
    token = secret_format.generate(secret_format.REFRESH_TOKEN)
    request.keyward.raw["refresh"] = token
    return token


def _server():
    # Our generators are passed to this server only: DOT's global ACCESS_TOKEN_GENERATOR
    # stays free for OAuth clients' tokens at /o/token/.
    kwargs = {
        **oauth2_settings.server_kwargs,
        "token_expires_in": settings.LOGIN_ACCESS_TOKEN_LIFETIME_SECONDS,
        "token_generator": _access_token_generator,
        "refresh_token_generator": _refresh_token_generator,
    }
    return oauth2_settings.OAUTH2_SERVER_CLASS(LoginValidator(), **kwargs)


def login_application():
    """Keyward's own first-party public client, created on first use."""
    app = Application.objects.filter(client_id=LOGIN_CLIENT_ID).first()
    if app is None:
        app, _created = Application.objects.get_or_create(
            client_id=LOGIN_CLIENT_ID,
            defaults={
                "name": "Keyward login",
                "client_type": Application.CLIENT_PUBLIC,
                "authorization_grant_type": Application.GRANT_PASSWORD,
                "organization": None,
                "redirect_uris": "",
            },
        )
    return app


@sensitive_variables()  # every local may hold a plaintext secret
def _mint(*, membership, scope, grant_type, ip, user_agent, application, refresh_token=None, raw_refresh=None):
    issue = _Issue(membership=membership, ip=ip, user_agent=user_agent or "")
    request = OAuthRequest("/api/v1/auth/token", http_method="POST")
    request.client = application
    request.client_id = application.client_id
    request.user = membership.user
    request.scopes = [scope]
    request.grant_type = grant_type
    request.keyward = issue
    if refresh_token is not None:
        request.refresh_token = raw_refresh
        request.refresh_token_instance = refresh_token
    server = _server()
    token = server.bearer.create_token(request, refresh_token=True)
    server.request_validator.save_bearer_token(token, request)
    lifetime = datetime.timedelta(seconds=settings.LOGIN_REFRESH_TOKEN_LIFETIME_SECONDS)
    return LoginPair(
        access_token=issue.access_token,
        refresh_token=issue.refresh_token,
        token=OneTimeSecret(issue.raw.pop("access")),
        refresh_secret=OneTimeSecret(issue.raw.pop("refresh")),
        membership=membership,
        expires_at=issue.expires_at,
        refresh_expires_at=issue.refresh_token.created + lifetime,
    )


@transaction.atomic
def issue_login_pair(*, membership, ip=None, user_agent=""):
    """Start a session for a member: a JWT carrying their role, and a refresh token."""
    pair = _mint(
        membership=membership, scope=membership.role, grant_type="password", ip=ip,
        user_agent=user_agent, application=login_application(),
    )
    _audit(pair.access_token, AuditEvent.Action.ISSUED, actor=membership.user, ip=ip, detail="login")
    log.info("login token %s …%s issued to user %s", pair.access_token.pk, pair.access_token.last4,
             membership.user_id)
    return pair


def _audit(token, action, *, actor, ip=None, detail=""):
    return AuditEvent(
        organization_id=token.organization_id,
        actor=actor,
        action=action,
        credential_kind=Kind.LOGIN,
        credential_id=token.pk,
        credential_last4=token.last4,
        ip=ip,
        detail=detail[:255],
    ).save()


# --- logging in, with throttling -------------------------------------------------------


def _throttle_keys(email, ip):
    # The email is hashed so the cache never holds who tried to log in.
    account = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:40]
    keys = {f"login-failures:account:{account}": settings.LOGIN_FAILURES_PER_ACCOUNT}
    if ip:
        keys[f"login-failures:ip:{ip}"] = settings.LOGIN_FAILURES_PER_IP
    return keys


def _check_throttle(keys, now):
    counters = cache.get_many(list(keys))
    waits = [
        until - now
        for key, (count, until) in counters.items()
        if count >= keys[key] and until > now
    ]
    if waits:
        raise LoginThrottled(math.ceil(max(waits)))


def _record_failure(keys, now):
    # get-then-set is not atomic on the database cache; parallel failures may count a
    # few short, which the limits (10 and 50, against NIST's 100) absorb.
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key, (count, until) in {
        key: cache.get(key) or (0, 0) for key in keys
    }.items():
        if until <= now:
            count, until = 0, now + window
        cache.set(key, (count + 1, until), timeout=math.ceil(until - now))


@sensitive_variables("password")
def _check_password(email, password):
    """The user for these credentials, or None; about as slow for an unknown email as a wrong password."""
    user = User.objects.filter(email__iexact=(email or "").strip()).first() if email else None
    if user is None or not user.has_usable_password():
        make_password(password)  # the same hashing work a real check costs
        return None
    if not user.check_password(password):
        return None
    if not EmailBackend().user_can_authenticate(user):
        return None  # deactivated, or a service account
    return user


def _membership_for_login(user, organization_id):
    memberships = Membership.objects.with_org().filter(user=user).order_by("created_at", "id")
    if organization_id:
        membership = memberships.filter(organization__public_id=organization_id).first()
        if membership is None:
            raise Refused(
                "invalid_organization", f"You are not a member of organization {organization_id}.",
                "organization",
            )
        return membership
    membership = memberships.first()
    if membership is None:
        raise Refused("no_organization", "This account belongs to no organization yet.")
    return membership


@sensitive_variables("password")
def log_in(*, email, password, organization_id=None, ip=None, user_agent=""):
    """Email and password → a login pair; throttled per account and per client address.

    Raises LoginThrottled (before the password is even checked) or Refused.
    """
    now = timezone.now().timestamp()
    keys = _throttle_keys(email, ip)
    _check_throttle(keys, now)
    user = _check_password(email, password)
    if user is None:
        _record_failure(keys, now)
        log.info("failed login from %s", ip or "unknown address")
        raise Refused("invalid_grant", BAD_CREDENTIALS)
    # NIST counts consecutive failures: a success clears the account's count (not the address's).
    cache.delete(next(iter(keys)))
    membership = _membership_for_login(user, organization_id)
    return issue_login_pair(membership=membership, ip=ip, user_agent=user_agent)


# --- refreshing -----------------------------------------------------------------------


def _narrower(scope, role):
    """The lower of two role bundles: a refresh never widens what the session may do."""
    roles = [name for name in (scope, role) if name in Role.values]
    return min(roles, key=Role.rank) if roles else role


def _invalid_grant(detail):
    return Refused("invalid_grant", detail)


@sensitive_variables("raw")
def refresh(*, raw, client_id=None, bearer=None, ip=None, user_agent=""):
    """Rotate a session: the refresh token buys a new pair and dies, with the old access token.

    `bearer` is the Principal of the access token sent along (before it expires), or
    None, in which case `client_id` (the email of the token's user) is required.
    Concurrent refreshes of one token queue on its row lock: exactly one wins.
    """
    started = timezone.now()
    raw = (raw or "").strip()
    if not secret_format.is_well_formed(raw, secret_format.REFRESH_TOKEN):
        if raw.startswith("eyJ") or raw.startswith(secret_format.PERSONAL_TOKEN):
            raise _invalid_grant("That is an access token; send the refreshToken you received with it.")
        raise _invalid_grant("The refresh token is malformed or mistyped (its checksum does not match).")
    with transaction.atomic():
        outcome = _refresh_locked(raw, client_id, bearer, ip, user_agent, started)
    # Raised after the commit, so ending a replayed session is not rolled back with the error.
    if isinstance(outcome, Refused):
        raise outcome
    return outcome


@sensitive_variables()  # every local may hold a plaintext secret
def _refresh_locked(raw, client_id, bearer, ip, user_agent, started):
    rt = (
        RefreshToken.objects.select_for_update(of=("self",))
        .select_related("user", "application", "access_token__membership__organization")
        .filter(token_checksum=secret_format.digest(raw), application__client_id=LOGIN_CLIENT_ID)
        .order_by(F("revoked").desc(nulls_first=True))
        .first()
    )
    if rt is None:
        return _invalid_grant("The refresh token is not valid.")
    if rt.revoked is not None:
        superseded = AccessToken.objects.filter(source_refresh_token=rt).exists()
        if not superseded:
            return _invalid_grant(
                "The refresh token was revoked: its session was ended (logout or revoke). Log in again."
            )
        if started < rt.revoked + CONCURRENT_REFRESH_WINDOW:
            return _invalid_grant(
                "The refresh token was just used by a concurrent request; use the pair it received."
            )
        ended = _end_families([rt.token_family], actor=rt.user, ip=ip,
                              detail="refresh token reused: session ended")
        log.warning("rotated refresh token of user %s reused; %s session(s) ended", rt.user_id, ended)
        return _invalid_grant(
            "The refresh token was already used once. As a precaution its session has been ended; "
            "log in again."
        )
    expires_at = rt.created + datetime.timedelta(seconds=settings.LOGIN_REFRESH_TOKEN_LIFETIME_SECONDS)
    if expires_at <= started:
        return _invalid_grant(
            f"The refresh token expired at {expires_at:%Y-%m-%dT%H:%M:%SZ}. Log in again."
        )
    access_token = rt.access_token
    if access_token is None or access_token.kind != Kind.LOGIN:
        return _invalid_grant("The refresh token is not valid.")
    if bearer is not None:
        if bearer.kind != Kind.LOGIN or bearer.token_id != access_token.pk:
            return _invalid_grant(
                "The refresh token does not belong to the access token in the Authorization header."
            )
    elif not client_id:
        return Refused(
            "invalid_request",
            "Send clientId (the email of the token's user) with the refresh token, "
            "or the current access token as Bearer.",
        )
    elif client_id.strip().lower() != rt.user.email.lower():
        return _invalid_grant("clientId is not the email of the refresh token's user.")
    membership = access_token.membership
    if membership is None or membership.organization_id != access_token.organization_id:
        return _invalid_grant("The token's user is no longer a member of its organization.")
    if not rt.user.is_active:
        return _invalid_grant("The token's user is deactivated.")
    membership.user = rt.user
    pair = _mint(
        membership=membership, scope=_narrower(access_token.scope, membership.role),
        grant_type="refresh_token", ip=ip, user_agent=user_agent or access_token.user_agent,
        application=rt.application,
        refresh_token=rt, raw_refresh=raw,
    )
    _audit(pair.access_token, AuditEvent.Action.ROTATED, actor=rt.user, ip=ip,
           detail=f"refreshed; replaces login token {access_token.pk}")
    return pair


# --- ending sessions ------------------------------------------------------------------


def _end_families(families, *, actor, ip=None, detail="session ended", now=None):
    """End sessions: their live refresh tokens and every access token of theirs die now.

    Soft revocation (`revoked_at`), unlike DOT's delete, so a killed token answers
    `token_revoked` and the session keeps its history. Refresh tokens first, then
    access tokens: the order rotation locks them in, so the two cannot deadlock.
    """
    families = [family for family in families if family]
    if not families:
        return 0
    # Wait for any refresh in flight in these sessions (it holds its refresh token's row
    # lock). Under READ COMMITTED the statements below then see the pair it committed,
    # which would otherwise outlive the session it belongs to.
    list(
        RefreshToken.objects.select_for_update()
        .filter(token_family__in=families, revoked__isnull=True)
        .values_list("pk", flat=True)
    )
    now = now or timezone.now()
    live = list(
        RefreshToken.objects.filter(token_family__in=families, revoked__isnull=True)
        .select_related("access_token")
        .exclude(access_token=None)
    )
    RefreshToken.objects.filter(token_family__in=families, revoked__isnull=True).update(
        revoked=now, updated=now
    )
    AccessToken.objects.filter(
        Q(refresh_token__token_family__in=families) | Q(source_refresh_token__token_family__in=families)
    ).filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=now)).update(revoked_at=now, updated=now)
    AuditEvent.objects.bulk_create(
        AuditEvent(
            organization_id=rt.access_token.organization_id,
            actor=actor,
            action=AuditEvent.Action.REVOKED,
            credential_kind=Kind.LOGIN,
            credential_id=rt.access_token_id,
            credential_last4=rt.access_token.last4,
            ip=ip,
            detail=detail,
            created_at=now,
        )
        for rt in live
        if rt.access_token.organization_id
    )
    return len(live)


def _family_of(access_token):
    """The session (refresh-token family) an access token belongs to, if it is known."""
    return (
        RefreshToken.objects.filter(
            Q(access_token=access_token) | Q(pk=access_token.source_refresh_token_id or 0)
        )
        .values_list("token_family", flat=True)
        .first()
    )


@transaction.atomic
def log_out(*, token_id, by, ip=None):
    """End the session of the access token that makes the call."""
    access_token = AccessToken.objects.filter(pk=token_id, kind=Kind.LOGIN).first()
    if access_token is None:
        return
    if not _end_families([_family_of(access_token)], actor=by, ip=ip, detail="logout"):
        _kill(access_token, by=by, ip=ip, detail="logout")  # a session whose refresh token is gone


def _kill(access_token, *, by, ip, detail):
    now = timezone.now()
    if access_token.revoked_at is None or access_token.revoked_at > now:
        access_token.revoked_at = now
        access_token.save(update_fields=["revoked_at", "updated"])
        _audit(access_token, AuditEvent.Action.REVOKED, actor=by, ip=ip, detail=detail)


@sensitive_variables("raw")
@transaction.atomic
def revoke(*, user, raw, ip=None):
    """End the session one of the user's login tokens (access or refresh) belongs to.

    Returns the number of sessions ended (0 when it had already ended), or None when
    the token is unknown or someone else's; a personal token is refused with a pointer.
    """
    raw = (raw or "").strip()
    if not raw:
        return None
    checksum = secret_format.digest(raw)
    if raw.startswith(secret_format.REFRESH_TOKEN):
        family = (
            RefreshToken.objects.filter(
                token_checksum=checksum, user=user, application__client_id=LOGIN_CLIENT_ID
            )
            .values_list("token_family", flat=True)
            .first()
        )
        if family is None:
            return None
        return _end_families([family], actor=user, ip=ip, detail="revoked by its user")
    access_token = AccessToken.objects.filter(token_checksum=checksum, user=user).first()
    if access_token is None:
        return None
    if access_token.kind != Kind.LOGIN:
        raise Refused(
            "not_a_login_token",
            "That is not a login token. Revoke personal tokens with DELETE /api/v1/tokens/{id}.",
        )
    ended = _end_families([_family_of(access_token)], actor=user, ip=ip, detail="revoked by its user")
    if not ended and access_token.is_live():
        _kill(access_token, by=user, ip=ip, detail="revoked by its user")
        ended = 1
    return ended


@transaction.atomic
def end_sessions(*, user, by, organization=None, keep_token_id=None, ip=None, detail="session ended"):
    """End every live session of the user (in one organization, or everywhere), but the caller's."""
    sessions = live_sessions(user=user, organization=organization)
    if keep_token_id is not None:
        sessions = sessions.exclude(access_token_id=keep_token_id)
    families = list(sessions.values_list("token_family", flat=True))
    return _end_families(families, actor=by, ip=ip, detail=detail)


@transaction.atomic
def end_session(*, user, organization, session_id, by, ip=None):
    """End one session by its id; None when the user has no such live session there."""
    if not live_sessions(user=user, organization=organization).filter(token_family=session_id).exists():
        return None
    return _end_families([session_id], actor=by, ip=ip, detail="session ended")


@transaction.atomic
def revoke_all(*, user, membership, ip=None, user_agent=""):
    """End every session of the user, everywhere, and start a fresh one for the caller (Qiscus)."""
    ended = end_sessions(user=user, by=user, ip=ip, detail="revoke-all")
    pair = issue_login_pair(membership=membership, ip=ip, user_agent=user_agent)
    return ended, pair


# --- listing sessions -----------------------------------------------------------------


def live_sessions(*, user, organization=None, now=None):
    """The user's live sessions: one live refresh token each, with its current access token."""
    now = now or timezone.now()
    lifetime = datetime.timedelta(seconds=settings.LOGIN_REFRESH_TOKEN_LIFETIME_SECONDS)
    sessions = RefreshToken.objects.filter(
        user=user,
        revoked__isnull=True,
        access_token__kind=Kind.LOGIN,
        created__gt=now - lifetime,
    )
    if organization is not None:
        sessions = sessions.filter(access_token__organization=organization)
    return sessions


def sessions_for_list(*, user, organization, now=None):
    """Live sessions with what a list shows, newest first, in one query."""
    started = (
        RefreshToken.objects.filter(token_family=OuterRef("token_family"))
        .order_by("created")
        .values("created")[:1]
    )
    return (
        live_sessions(user=user, organization=organization, now=now)
        .select_related("access_token")
        .annotate(started_at=Subquery(started))
        .order_by("-started_at", "-id")
    )


def describe(refresh_token, *, current_token_id=None):
    """A session row as people see it."""
    access_token = refresh_token.access_token
    lifetime = datetime.timedelta(seconds=settings.LOGIN_REFRESH_TOKEN_LIFETIME_SECONDS)
    return LoginSession(
        id=refresh_token.token_family,
        organization_id=access_token.organization_id,
        created_at=getattr(refresh_token, "started_at", None) or refresh_token.created,
        last_used_at=access_token.last_used_at or access_token.created,
        ip=access_token.last_used_ip or access_token.created_ip,
        user_agent=access_token.user_agent,
        expires_at=refresh_token.created + lifetime,
        access_token_id=access_token.pk,
        access_token_expires_at=access_token.expires,
        current=current_token_id is not None and access_token.pk == current_token_id,
    )


# --- password change ------------------------------------------------------------------


@sensitive_variables("new_password")
@transaction.atomic
def change_password(*, user, new_password, end_other_sessions, ip=None):
    """Set a new password; with `end_other_sessions`, every login session of the user ends too.

    The caller's own browser session survives through update_session_auth_hash in the
    view; Django's session hash check logs every other browser out in any case.
    """
    user.set_password(new_password)
    user.save(update_fields=["password"])
    if not end_other_sessions:
        return 0
    return end_sessions(user=user, by=user, ip=ip, detail="password changed")
