"""OAuth clients (Zendesk Chat's API clients) and the grants people give them.

A client belongs to an organization and to the member who created it: admins
see and manage every client of the organization, developers their own
(`Application.objects.visible_to`). The secret is DOT's 128 random characters,
hashed on save (tokens.oauth.hashers) and readable once, from the `Issued` that
create and regenerate return. Deleting a client kills every token issued to it.
A grant (an OAuth access token) is revoked only by the person who gave it; an
admin deletes the client instead. The writes are keyword-only, atomic and
audited through tokens.audit.
"""

import datetime
import ipaddress
import logging
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Grant, revoke_access_token

from accounts.errors import Refused
from accounts.models import Membership

from .. import audit, rules
from .. import scopes as catalog
from ..models import AccessToken, Application, AuditEvent, Kind, RefreshToken
from ..one_time import Issued, OneTimeSecret

log = logging.getLogger(__name__)

MAX_REDIRECT_URIS = 10
CLIENT_TYPES = (Application.CLIENT_CONFIDENTIAL, Application.CLIENT_PUBLIC)
# RFC 8252 §7.3 and RFC 9700 §2.6: plain http only for a native app's loopback redirect.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


# --- questions ----------------------------------------------------------------------


def membership_for(application, user):
    """The user's membership in the client's organization, or None: no membership, no grant."""
    if application is None or application.organization_id is None or not user.is_active:
        return None
    return (
        Membership.objects.select_related("organization", "user")
        .filter(organization_id=application.organization_id, user_id=user.pk)
        .first()
    )


def grantable(requested, membership):
    """The fine scopes of `requested` (role names expanded) that this membership may hand out."""
    allowed = catalog.allowed_for(membership.role, membership.developer_access)
    return catalog.ordered(catalog.expand(" ".join(requested)) & allowed)


# --- checks -------------------------------------------------------------------------


def clean_client_name(name):
    return rules.clean_name(name, what="client", why="so people know who asks for access")


def _uri_problem(uri):
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be an absolute https:// URL"
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return "must use https (plain http is allowed only for localhost)"
    if parts.fragment or uri.endswith("#"):
        return "must not contain a fragment (#…)"  # RFC 6749 §3.1.2
    if parts.username or parts.password:
        return "must not contain a user name or password"
    return None


def clean_redirect_uris(uris):
    """A list (or whitespace-separated text) of redirect URIs → the same, checked and deduplicated."""
    if isinstance(uris, str):
        uris = uris.split()
    cleaned = []
    for uri in uris or ():
        uri = (uri or "").strip()
        if not uri or uri in cleaned:
            continue
        problem = _uri_problem(uri)
        if problem:
            raise Refused(
                "invalid_redirect_uri", f"The redirect URI {uri} {problem}.", "redirect_uris"
            )
        cleaned.append(uri)
    if not cleaned:
        raise Refused("redirect_uri_required", "Give at least one redirect URI.", "redirect_uris")
    if len(cleaned) > MAX_REDIRECT_URIS:
        raise Refused(
            "too_many_redirect_uris",
            f"A client has at most {MAX_REDIRECT_URIS} redirect URIs.",
            "redirect_uris",
        )
    return cleaned


MAX_ALLOWED_ORIGINS = 10
# One DNS label of a host as browsers send it in `Origin` (lower-case, IDNs in punycode).
_HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def _is_exact_host(hostname):
    """An IP address or a dotted name of valid labels: what a browser's `Origin` can carry."""
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return all(_HOST_LABEL.fullmatch(label) for label in hostname.split("."))
    return True


def clean_allowed_origins(origins):
    """Origins a browser-based client calls /o/token/ from (CORS): `https://host[:port]`, or
    plain http on a loopback host; a list or whitespace-separated text → the same, checked."""
    if isinstance(origins, str):
        origins = origins.split()
    cleaned = []
    for origin in origins or ():
        origin = (
            (origin or "").strip().rstrip("/").lower()
        )  # browsers send scheme and host lower-case
        if not origin or origin in cleaned:
            continue
        try:
            parts = urlsplit(origin)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            parts = None
        if "*" in origin:
            raise Refused(
                "invalid_origin",
                f"{origin} is a pattern: a browser sends one exact origin, which a wildcard never "
                "matches. List each origin (https://app.example.com).",
                "allowed_origins",
            )
        if (
            parts is None
            or not parts.hostname
            or not _is_exact_host(parts.hostname)
            or parts.path
            or parts.query
            or parts.fragment
            or parts.username
            or parts.password
            or not (
                parts.scheme == "https"
                or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
            )
        ):
            raise Refused(
                "invalid_origin",
                f"{origin} is not an origin: give https://host[:port] (plain http only for localhost).",
                "allowed_origins",
            )
        cleaned.append(origin)
    if len(cleaned) > MAX_ALLOWED_ORIGINS:
        raise Refused(
            "too_many_origins",
            f"A client has at most {MAX_ALLOWED_ORIGINS} allowed origins.",
            "allowed_origins",
        )
    return cleaned


def _check_developer(membership):
    if not membership.has_developer_access:
        raise Refused("developer_access_required", "Managing OAuth clients needs developer access.")


def _check_introspection(membership, allow_introspection, client_type):
    if not allow_introspection:
        return
    if not membership.is_admin:
        raise Refused(
            "introspection_not_allowed",
            "Only admins may let a client introspect tokens.",
            "allow_introspection",
        )
    if client_type != Application.CLIENT_CONFIDENTIAL:
        raise Refused(
            "introspection_needs_secret",
            "Only a confidential client (one with a secret) may introspect tokens.",
            "allow_introspection",
        )


def _new_secret(application):
    """Put a fresh plaintext secret on the row (DOT hashes it on save) and return it."""
    raw = generate_client_secret()
    application.client_secret = raw
    application.hash_client_secret = True
    application.secret_last4 = raw[-4:]
    return raw


# --- writes -------------------------------------------------------------------------


@transaction.atomic
def create_client(
    *,
    membership,
    name,
    redirect_uris,
    client_type=Application.CLIENT_CONFIDENTIAL,
    allow_introspection=False,
    allowed_origins=(),
    ip=None,
):
    """Register a client of the member's organization for the authorization-code flow with PKCE."""
    _check_developer(membership)
    name = clean_client_name(name)
    uris = clean_redirect_uris(redirect_uris)
    origins = clean_allowed_origins(allowed_origins)
    if client_type not in CLIENT_TYPES:
        raise Refused("invalid_client_type", "A client is confidential or public.", "client_type")
    _check_introspection(membership, allow_introspection, client_type)
    application = Application(
        name=name,
        organization_id=membership.organization_id,
        # DOT's `user` stays empty: its foreign key cascades, and a client belongs to the
        # organization (created_by is kept, and nulled if that account is ever deleted).
        created_by_id=membership.user_id,
        created_ip=ip,
        client_type=client_type,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(uris),
        skip_authorization=False,  # every grant goes through the consent page
        allow_introspection=bool(allow_introspection),
        allowed_origins=" ".join(origins),
    )
    raw = None
    if client_type == Application.CLIENT_CONFIDENTIAL:
        raw = _new_secret(application)  # read before save: saving keeps only the hash
    else:
        # A public client (a browser or native app) cannot keep a secret, so it has none.
        application.client_secret = ""
        application.hash_client_secret = False
        application.secret_last4 = ""
    application.save()
    audit.record(
        action=AuditEvent.Action.ISSUED,
        credential=application,
        actor=membership.user,
        ip=ip,
        detail=f"{client_type} client",
    )
    log.info(
        "OAuth client %s (%s) created by user %s", application.pk, client_type, membership.user_id
    )
    return Issued(application, OneTimeSecret(raw) if raw else None)


@transaction.atomic
def update_client(
    *,
    application,
    by,
    membership,
    name=None,
    redirect_uris=None,
    allow_introspection=None,
    allowed_origins=None,
    ip=None,
):
    """Change the name, the redirect URIs, the CORS origins and (admins) introspection; the type and id are fixed."""
    _check_developer(membership)
    changed = []
    if name is not None:
        name = clean_client_name(name)
        if name != application.name:
            application.name = name
            changed.append("name")
    if redirect_uris is not None:
        uris = " ".join(clean_redirect_uris(redirect_uris))
        if uris != application.redirect_uris:
            application.redirect_uris = uris
            changed.append("redirect_uris")
    if allowed_origins is not None:
        origins = " ".join(clean_allowed_origins(allowed_origins))
        if origins != application.allowed_origins:
            application.allowed_origins = origins
            changed.append("allowed_origins")
    if (
        allow_introspection is not None
        and bool(allow_introspection) != application.allow_introspection
    ):
        if not membership.is_admin:
            raise Refused(
                "introspection_not_allowed",
                "Only admins may change whether a client introspects tokens.",
                "allow_introspection",
            )
        _check_introspection(membership, allow_introspection, application.client_type)
        application.allow_introspection = bool(allow_introspection)
        changed.append("allow_introspection")
    if changed:
        application.save(update_fields=[*changed, "updated"])
        audit.record(
            action=AuditEvent.Action.RENAMED,
            credential=application,
            actor=by,
            ip=ip,
            detail="changed " + ", ".join(changed),
        )
    return application


@transaction.atomic
def regenerate_secret(*, application, by, ip=None):
    """A new secret, shown once; the old one is refused from this commit on (no grace period)."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.client_type != Application.CLIENT_CONFIDENTIAL:
        raise Refused("public_client", "A public client has no secret to regenerate.")
    raw = _new_secret(application)
    application.save(
        update_fields=["client_secret", "hash_client_secret", "secret_last4", "updated"]
    )
    audit.record(
        action=AuditEvent.Action.ROTATED,
        credential=application,
        actor=by,
        ip=ip,
        detail="client secret regenerated",
    )
    log.info("OAuth client %s secret regenerated by user %s", application.pk, by.pk)
    return Issued(application, OneTimeSecret(raw))


@transaction.atomic
def delete_client(*, application, by, ip=None):
    """Delete the client; every access and refresh token issued to it dies with it, at once."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    client_pk = application.pk  # Model.delete() sets pk to None
    tokens = AccessToken.objects.filter(application=application).count()
    # Audited first: the rows below go with the client (DOT's foreign keys cascade), so a
    # presented token then finds nothing and answers 401.
    audit.record(
        action=AuditEvent.Action.REVOKED,
        credential=application,
        actor=by,
        ip=ip,
        detail=f"client deleted with its {tokens} access token(s)",
    )
    application.delete()
    log.info("OAuth client %s deleted by user %s with %s token(s)", client_pk, by.pk, tokens)


@transaction.atomic
def revoke_grant(*, token, by, ip=None):
    """Revoke an OAuth access token and its refresh token; only the person who granted it may."""
    if token.kind != Kind.OAUTH:
        raise Refused("not_oauth_token", "This is not an OAuth token.")
    if token.user_id != by.pk:
        raise Refused(
            "permission_denied",
            "Only the person who authorized this client can revoke its token. "
            "An admin can delete the client instead, which revokes all of its tokens.",
            status=403,
        )
    audit.record(action=AuditEvent.Action.REVOKED, credential=token, actor=by, ip=ip)
    # DOT's single revoke path: the refresh token is revoked and the access token with it
    # (our AccessToken.revoke() is a soft revoke, so the token answers `token_revoked`).
    revoke_access_token(token)
    token.refresh_from_db(fields=["revoked_at"])
    if token.revoked_at is None or token.revoked_at > timezone.now():
        token.revoke()  # its refresh token was already gone, so DOT's path left it alone
    log.info("OAuth token %s …%s revoked by user %s", token.pk, token.last4, by.pk)
    return token


def purge_expired(*, now=None):
    """Delete what can no longer be used: expired authorization codes, OAuth refresh tokens past
    their idle lifetime (a rotated or revoked one is kept that long, for reuse detection), and
    expired OAuth access tokens no refresh token needs. Login sessions and personal tokens are
    not touched (their own rooms keep them). Returns the counts, for the command's report."""
    now = now or timezone.now()
    idle = datetime.timedelta(seconds=settings.OAUTH_REFRESH_TOKEN_IDLE_SECONDS)
    grants, _ = Grant.objects.filter(expires__lt=now).delete()
    refresh, _ = (
        RefreshToken.objects.exclude(application__client_id=Application.LOGIN_CLIENT_ID)
        .filter(
            Q(revoked__lt=now - idle)
            | Q(revoked__isnull=True, access_token__isnull=True)
            | Q(revoked__isnull=True, access_token__expires__lte=now - idle)
        )
        .delete()
    )
    access, _ = AccessToken.objects.filter(
        kind=Kind.OAUTH, expires__lt=now, refresh_token__isnull=True
    ).delete()
    log.info(
        "purged %s authorization code(s), %s OAuth refresh token(s), %s OAuth access token(s)",
        grants,
        refresh,
        access,
    )
    return {"authorization_codes": grants, "refresh_tokens": refresh, "access_tokens": access}
