"""Login services: log in, refresh, log out, revoke, revoke all, end sessions, change the password.

Every function here is keyword-only. Each one that writes a credential (or the
password) runs in one transaction and leaves an audit event through tokens.audit:
a login is *issued*, a refresh *rotated*, every ended session *revoked* (one event
per live access token), a password change *rotated* (kind `login`). The login
throttle's counters (accounts.throttle) are written outside both.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.errors import Refused
from accounts.models import Membership, Role

from .. import audit, secret_format
from ..models import AccessToken, AuditEvent, CredentialKind, Kind, RefreshToken
from .minting import LOGIN_CLIENT_ID, login_application, mint
from .sessions import live_sessions

log = logging.getLogger(__name__)

# A rotated refresh token presented by a request that started before (or within this
# long after) the rotation is a concurrent duplicate from the same client, not a
# replay: it is refused without ending the session. Any later use ends the session.
CONCURRENT_REFRESH_WINDOW = datetime.timedelta(seconds=2)

BAD_CREDENTIALS = "The email and password do not match an account that may log in."


@transaction.atomic
def issue_login_pair(*, membership, ip=None, user_agent=""):
    """Start a session for a member: a JWT carrying their role, and a refresh token."""
    pair = mint(
        membership=membership,
        scope=membership.role,
        grant_type="password",
        ip=ip,
        user_agent=user_agent,
        application=login_application(),
    )
    audit.record(
        action=AuditEvent.Action.ISSUED,
        credential=pair.access_token,
        actor=membership.user,
        ip=ip,
        detail="login",
    )
    log.info(
        "login token %s …%s issued to user %s",
        pair.access_token.pk,
        pair.access_token.last4,
        membership.user_id,
    )
    return pair


# --- logging in ------------------------------------------------------------------------


def _membership_for_login(user, organization_id):
    """The membership a login acts in; called only once the password checked out, since
    asking to choose reveals the organizations a person belongs to."""
    memberships = Membership.objects.with_org().filter(user=user).order_by("created_at", "id")
    if organization_id:
        membership = memberships.filter(organization__public_id=organization_id).first()
        if membership is None:
            raise Refused(
                "invalid_organization",
                f"You are not a member of organization {organization_id}.",
                "organization",
            )
        return membership
    choices = list(memberships[:2])
    if not choices:
        raise Refused("no_organization", "This account belongs to no organization yet.")
    if len(choices) > 1:
        # Picking one silently would act somewhere the person may not have meant.
        organizations = [
            {"id": m.organization.public_id, "name": m.organization.name}
            for m in memberships.order_by("organization__name", "organization__public_id")
        ]
        raise Refused(
            "organization_required",
            "You belong to several organizations: send `organization` with the Org ID of the one to log in to.",
            "organization",
            extra={"organizations": organizations},
        )
    return choices[0]


@sensitive_variables("password")
def log_in(*, email, password, organization_id=None, ip=None, user_agent=""):
    """Email and password → a login pair, through the one throttled authentication backend.

    Raises accounts.throttle.Throttled (before the password is even checked) or Refused.
    An unknown email costs the same hashing work as a wrong password (Django's ModelBackend).
    """
    user = authenticate(None, username=(email or "").strip(), password=password, ip=ip)
    if user is None:
        log.info("failed login from %s", ip or "unknown address")
        raise Refused("invalid_grant", BAD_CREDENTIALS)
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
            raise _invalid_grant(
                "That is an access token; send the refreshToken you received with it."
            )
        raise _invalid_grant(
            "The refresh token is malformed or mistyped (its checksum does not match)."
        )
    with transaction.atomic():
        outcome = _refresh_locked(raw, client_id, bearer, ip, user_agent, started)
    # Raised after the commit, so ending a replayed session is not rolled back with the error.
    if isinstance(outcome, Refused):
        raise outcome
    return outcome


@sensitive_variables()  # every local may hold a plaintext secret
def _refused_revoked(rt, ip, started):
    """A revoked refresh token: ended with its session, just raced, or reused (which ends the
    session, as RFC 9700 asks)."""
    superseded = AccessToken.objects.filter(source_refresh_token=rt).exists()
    if not superseded:
        return _invalid_grant(
            "The refresh token was revoked: its session was ended (logout or revoke). Log in again."
        )
    if started < rt.revoked + CONCURRENT_REFRESH_WINDOW:
        return _invalid_grant(
            "The refresh token was just used by a concurrent request; use the pair it received."
        )
    ended = _end_families(
        [rt.token_family], actor=rt.user, ip=ip, detail="refresh token reused: session ended"
    )
    log.warning("rotated refresh token of user %s reused; %s session(s) ended", rt.user_id, ended)
    return _invalid_grant(
        "The refresh token was already used once. As a precaution its session has been ended; "
        "log in again."
    )


def _refused_live(rt, client_id, bearer, started):
    """Why a live refresh token cannot be used here, or None."""
    expires_at = rt.created + datetime.timedelta(
        seconds=settings.LOGIN_REFRESH_TOKEN_LIFETIME_SECONDS
    )
    if expires_at <= started:
        return _invalid_grant(
            f"The refresh token expired at {expires_at:%Y-%m-%dT%H:%M:%SZ}. Log in again."
        )
    access_token = rt.access_token
    if access_token is None or access_token.kind != Kind.LOGIN:
        return _invalid_grant("The refresh token is not valid.")
    if bearer is not None:
        if bearer.kind != CredentialKind.LOGIN or bearer.token_id != access_token.pk:
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
    return None


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
        return _refused_revoked(rt, ip, started)
    refused = _refused_live(rt, client_id, bearer, started)
    if refused is not None:
        return refused
    access_token = rt.access_token
    membership = access_token.membership
    membership.user = rt.user
    pair = mint(
        membership=membership,
        scope=_narrower(access_token.scope, membership.role),
        grant_type="refresh_token",
        ip=ip,
        user_agent=user_agent or access_token.user_agent,
        application=rt.application,
        refresh_token=rt,
        raw_refresh=raw,
    )
    audit.record(
        action=AuditEvent.Action.ROTATED,
        credential=pair.access_token,
        actor=rt.user,
        ip=ip,
        detail=f"refreshed; replaces login token {access_token.pk}",
    )
    return pair


# --- ending sessions ------------------------------------------------------------------


def _end_families(families, *, actor, ip=None, detail="session ended"):
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
    now = timezone.now()
    live = list(
        RefreshToken.objects.filter(token_family__in=families, revoked__isnull=True)
        .select_related("access_token")
        .exclude(access_token=None)
    )
    RefreshToken.objects.filter(token_family__in=families, revoked__isnull=True).update(
        revoked=now, updated=now
    )
    killed = AccessToken.objects.filter(
        Q(refresh_token__token_family__in=families)
        | Q(source_refresh_token__token_family__in=families)
    ).filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=now))
    killed.update(revoked_at=now, updated=now)
    audit.record_each(
        [rt.access_token for rt in live if rt.access_token.organization_id],
        action=AuditEvent.Action.REVOKED,
        actor=actor,
        ip=ip,
        detail=detail,
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


def _kill(access_token, *, by, ip, detail):
    """Revoke a lone access token whose session (refresh token) is gone."""
    now = timezone.now()
    if access_token.revoked_at is None or access_token.revoked_at > now:
        access_token.revoked_at = now
        access_token.save(update_fields=["revoked_at", "updated"])
        audit.record(
            action=AuditEvent.Action.REVOKED,
            credential=access_token,
            actor=by,
            ip=ip,
            detail=detail,
        )


@transaction.atomic
def log_out(*, token_id, by, ip=None):
    """End the session of the access token that makes the call."""
    access_token = AccessToken.objects.filter(pk=token_id, kind=Kind.LOGIN).first()
    if access_token is None:
        return
    if not _end_families([_family_of(access_token)], actor=by, ip=ip, detail="logout"):
        _kill(access_token, by=by, ip=ip, detail="logout")  # a session whose refresh token is gone


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
    ended = _end_families(
        [_family_of(access_token)], actor=user, ip=ip, detail="revoked by its user"
    )
    if not ended and access_token.is_live():
        _kill(access_token, by=user, ip=ip, detail="revoked by its user")
        ended = 1
    return ended


@transaction.atomic
def end_sessions(*, user, by, organization=None, ip=None, detail="session ended"):
    """End every live session of the user, in one organization or everywhere."""
    families = list(
        live_sessions(user=user, organization=organization).values_list("token_family", flat=True)
    )
    return _end_families(families, actor=by, ip=ip, detail=detail)


@transaction.atomic
def end_session(*, user, organization, session_id, by=None, ip=None):
    """End one session by its id, `by` its user unless an admin ends it; None when the user has
    no such live session there."""
    if (
        not live_sessions(user=user, organization=organization)
        .filter(token_family=session_id)
        .exists()
    ):
        return None
    return _end_families([session_id], actor=by or user, ip=ip, detail="session ended")


@transaction.atomic
def revoke_all(*, user, membership, ip=None, user_agent=""):
    """End every session of the user, everywhere, and start a fresh one for the caller (Qiscus)."""
    ended = end_sessions(user=user, by=user, ip=ip, detail="revoke-all")
    pair = issue_login_pair(membership=membership, ip=ip, user_agent=user_agent)
    return ended, pair


# --- password change ------------------------------------------------------------------


@sensitive_variables("new_password")
@transaction.atomic
def change_password(*, user, new_password, end_other_sessions, ip=None):
    """Set a new password; with `end_other_sessions`, every login session of the user ends too.

    The password is the secret every login checks, so its change is recorded as the
    `login` credential *rotated*, in each organization the user belongs to (an audit
    event belongs to one organization; the password works in all of them).

    The caller's own browser session survives through update_session_auth_hash in the
    view; Django's session hash check logs every other browser out in any case.
    """
    user.set_password(new_password)
    user.save(update_fields=["password"])
    for organization_id in Membership.objects.filter(user=user).values_list(
        "organization_id", flat=True
    ):
        audit.record(
            action=AuditEvent.Action.ROTATED,
            organization_id=organization_id,
            actor=user,
            kind=CredentialKind.LOGIN,
            ip=ip,
            detail="password changed",
        )
    if not end_other_sessions:
        return 0
    return end_sessions(user=user, by=user, ip=ip, detail="password changed")
