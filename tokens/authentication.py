"""DRF authentication: bearer tokens in one indexed query, and portal sessions
(API keys authenticate in `tokens.api_keys.authentication`).

The bearer path is the hottest code in Keyward. It costs one SQL query built
once per database alias (no ORM query building per request), refuses a
`kw_pat_` string with a bad checksum before asking the database, never reads
the request body or the query string for a token, and checks what DOT's stock
class does not: the owner's account is active and still a member, and the
scopes are cut to what the membership allows today.
"""

import logging

from django.db import connections
from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import User

from . import scopes as catalog
from . import secret_format
from .bearer_lookup import aware, lookup
from .models import AccessToken, CredentialKind
from .principal import Principal, record_use

log = logging.getLogger(__name__)

def fail(code, detail):
    return exceptions.AuthenticationFailed(detail, code=code)


class TokenInURL(exceptions.APIException):
    """RFC 6750 §3.1: a token sent where it is never accepted is a malformed request, 400."""

    status_code = 400
    default_code = "invalid_request"
    default_detail = "Tokens are never accepted in the URL. Send it in the Authorization header."


class AccessTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer …` for every token kept as an AccessToken row.

    Personal tokens (`kw_pat_…`, and legacy imported ones), OAuth access tokens
    issued by django-oauth-toolkit and login tokens all resolve through the
    same digest lookup; the row's `kind` says which it is.
    """

    www_authenticate_realm = "api"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header:
            if "access_token=" in request.META.get("QUERY_STRING", ""):
                raise TokenInURL()
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        raw = raw.strip()
        if not raw:
            raise fail("invalid_token", "The Authorization header has no token after 'Bearer'.")
        if raw.startswith("kw_") and not raw.startswith(
            (secret_format.PERSONAL_TOKEN, secret_format.OAUTH_TOKEN)
        ):
            if raw.startswith(secret_format.REFRESH_TOKEN):
                raise fail(
                    "invalid_token",
                    "That is a refresh token; send it to /api/v1/auth/token, not as a Bearer token.",
                )
            return None  # another kw_ kind (API key JWTs etc.) belongs to another class
        if raw.startswith("kw_"):  # kw_pat_ or kw_oat_: the checksum refuses a typo before any query
            prefix = secret_format.PERSONAL_TOKEN if raw[3] == "p" else secret_format.OAUTH_TOKEN
            if not secret_format.is_well_formed(raw, prefix):
                raise fail("invalid_token", "The token is malformed or mistyped (its checksum does not match).")
        return self.authenticate_digest(request, secret_format.digest(raw))

    def authenticate_digest(self, request, digest):
        row = lookup(connections["default"], digest)
        if row is None:
            raise fail("invalid_token", "The token is not valid.")
        (token_id, kind, scope, expires, revoked_at, last_used_at, organization_id, membership_id,
         member_org_id, role, developer_access, user_id, email, is_active, is_service_account,
         group_id, reach, app_user_id) = row

        now = timezone.now()
        revoked_at = aware(revoked_at)
        if revoked_at is not None and revoked_at <= now:
            raise fail("token_revoked", f"The token was revoked at {revoked_at:%Y-%m-%dT%H:%M:%SZ}.")
        expires = aware(expires)
        if expires is not None and expires <= now:
            raise fail(
                "token_expired",
                f"The access token expired at {expires:%Y-%m-%dT%H:%M:%SZ}. "
                "Refresh it or create a new one.",
            )
        if membership_id is None or member_org_id != organization_id:
            raise fail("invalid_token", "The token's owner is no longer a member of its organization.")
        if not is_active:
            raise fail("invalid_token", "The token's owner is deactivated.")

        last_used_at = aware(last_used_at)
        record_use(AccessToken, token_id, last_used_at, now, request)

        user = User(id=user_id, email=email, is_active=is_active, is_service_account=is_service_account)
        user._state.adding = False
        user._state.db = "default"
        principal = Principal(
            kind=kind,
            token_id=token_id,
            user_id=user_id,
            membership_id=membership_id,
            organization_id=organization_id,
            group_id=group_id,
            role=role,
            developer_access=developer_access,
            scopes=catalog.effective(scope, role, developer_access),
            reach=reach,
            app_user_id=app_user_id,
        )
        return user, principal

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
                kind=CredentialKind.SESSION, token_id=None, user_id=user.pk, membership_id=None,
                organization_id=None, group_id=None, role=None, developer_access=False,
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
