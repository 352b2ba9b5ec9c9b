"""DRF authentication: bearer tokens in one indexed query, and portal sessions.

The bearer path is the hottest code in Keyward. It costs one SQL query built
once per database alias (no ORM query building per request), refuses a
`kw_pat_` string with a bad checksum before asking the database, never reads
the request body or the query string for a token, and checks what DOT's stock
class does not: the owner's account is active and still a member, and the
scopes are cut to what the membership allows today.
"""

import base64
import logging

import jwt
from django.conf import settings
from django.db import connections
from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import User

from . import api_keys, secret_format
from . import scopes as catalog
from .bearer_lookup import aware, lookup
from .models import REACH_RANK, AccessToken, ApiKey, CredentialKind
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


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """API keys (Smooch): `Basic base64(keyId:secret)`, or a `Bearer` JWT the caller signs
    with the key's secret (HS256, header `kid` = key id; claims `scope`, `userId`, `exp`).

    It claims only what is its own (Basic, or a JWT whose `kid` is a key id), so the
    personal-token path pays one `startswith` for it.
    """

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header or not header[:10].lower().startswith(("basic ", "bearer eyj")):
            return None
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() == "basic":
            return self._basic(request, value)
        try:
            jwt_header = jwt.get_unverified_header(value)
        except jwt.PyJWTError:
            return None
        kid = jwt_header.get("kid")
        if not isinstance(kid, str) or not kid.startswith(secret_format.API_KEY_ID):
            return None  # another issuer's JWT (Keyward's own login tokens)
        return self._jwt(request, value, jwt_header, kid)

    def _key(self, key_id):
        return (
            ApiKey.objects.select_related("membership__user", "organization")
            .filter(key_id=key_id)
            .first()
        )

    def _basic(self, request, value):
        try:
            key_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise fail("invalid_token", "The Basic credentials are not valid base64 of keyId:secret.") from None
        if not key_id.startswith(secret_format.API_KEY_ID):
            raise fail("invalid_token", "Basic authentication takes an API key id (kw_key_…) and its secret.")
        if not secret_format.is_well_formed(secret, secret_format.API_KEY_SECRET):
            raise fail("invalid_token", "The API key secret is malformed or mistyped (its checksum does not match).")
        key = self._key(key_id)
        now = timezone.now()
        if key is None or not api_keys.secret_matches(key, secret, now):
            raise fail("invalid_token", "Unknown API key, or wrong secret.")
        return self._principal(request, key, now, reach=key.reach, app_user_id="")

    def _jwt(self, request, raw, jwt_header, kid):
        if jwt_header.get("alg") != "HS256":
            raise fail("unsupported_algorithm", "API key JWTs must be signed with HS256.")
        key = self._key(kid)
        if key is None:
            raise fail("unknown_key", "No API key has this `kid`.")
        if not key.allow_jwt:
            raise fail("jwt_not_allowed", "This API key does not allow JWTs; use Basic authentication.")
        now = timezone.now()
        claims = None
        for secret in api_keys.verification_secrets(key, now):
            try:
                claims = jwt.decode(raw, secret, algorithms=["HS256"], leeway=30,
                                    options={"verify_aud": False, "require": ["scope"]})
                break
            except jwt.ExpiredSignatureError:
                raise fail("token_expired", "The JWT's `exp` has passed.") from None
            except jwt.MissingRequiredClaimError:
                raise fail("invalid_claims", "The JWT needs a `scope` claim: app, appUser or account.") from None
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError as exc:
                raise fail("invalid_token", f"The JWT is not valid: {exc}.") from None
        if claims is None:
            raise fail("invalid_signature", "The JWT's signature does not match the API key's secret.")
        exp = claims.get("exp")
        if exp is not None and exp - now.timestamp() > settings.API_KEY_JWT_MAX_LIFETIME_SECONDS:
            raise fail("lifetime_too_long",
                        f"A JWT may live at most {settings.API_KEY_JWT_MAX_LIFETIME_SECONDS} seconds.")
        reach = claims.get("scope")
        if reach not in REACH_RANK:
            raise fail("invalid_claims", "The JWT's `scope` claim is app, appUser or account.")
        if REACH_RANK[reach] > REACH_RANK[key.reach]:
            raise fail("reach_not_allowed", f"This API key reaches `{key.reach}` at most.")
        user_id = claims.get("userId")
        if reach == "appUser" and (not isinstance(user_id, str) or not user_id):
            raise fail("user_id_required", "An appUser JWT names the contact in `userId`.")
        return self._principal(request, key, now, reach=reach, app_user_id=user_id or "")

    def _principal(self, request, key, now, *, reach, app_user_id):
        if key.revoked_at is not None and key.revoked_at <= now:
            raise fail("token_revoked", "This API key was deleted.")
        membership = key.membership
        if membership is None or membership.organization_id != key.organization_id:
            raise fail("invalid_token", "The API key's owner is no longer a member of its organization.")
        if not membership.user.is_active:
            raise fail("invalid_token", "The API key's owner is deactivated.")
        record_use(ApiKey, key.pk, key.last_used_at, now, request)
        return membership.user, Principal(
            kind=CredentialKind.API_KEY,
            token_id=key.pk,
            user_id=membership.user_id,
            membership_id=membership.pk,
            organization_id=key.organization_id,
            group_id=key.organization.group_id,
            role=membership.role,
            developer_access=membership.developer_access,
            scopes=catalog.effective(key.scope, membership.role, membership.developer_access),
            reach=reach,
            app_user_id=app_user_id,
        )

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
