"""API keys (Smooch): `Basic base64(keyId:secret)`, or a `Bearer` JWT the caller signs with
the key's secret; and how the OpenAPI document describes them."""

import base64

import jwt
from django.conf import settings
from django.db.models.functions import Coalesce
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication
from rest_framework.exceptions import AuthenticationFailed

from .. import scopes as catalog
from .. import secret_format
from ..bearer.authentication import fail
from ..bearer.principal import Principal, record_use
from ..cache import invalidation, metrics
from ..limits import load as limits
from ..models import REACH_RANK, ApiKey, CredentialKind
from ..usage import counter as usage
from . import services

BASIC_CHALLENGE = 'Basic realm="api", charset="UTF-8"'


def cached_keys():
    """What the cache holds for a key: the key, its owner and organization, and the
    organization's JWT policy (a policy change drops it: the policy table is watched too)."""
    return ApiKey.objects.select_related("membership__user", "organization").annotate(
        require_jwt_exp=Coalesce("organization__token_policy__require_jwt_exp", False),
        limited=limits.organization_has_limits(),
    )


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """API keys (Smooch): `Basic base64(keyId:secret)`, or a `Bearer` JWT the caller signs
    with the key's secret (HS256, header `kid` = key id; claims `scope`, `userId`, `exp`).

    It claims only what is its own (Basic, or a JWT whose `kid` is a key id), so the
    personal-token path pays one `startswith` for it.
    """

    def authenticate(self, request):
        try:
            result = self._authenticate(request)
        except AuthenticationFailed as exc:
            metrics.outcome(CredentialKind.API_KEY, exc.get_codes())
            raise
        if result is not None:
            metrics.outcome(CredentialKind.API_KEY, "ok")
        return result

    def _authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header or not header[:10].lower().startswith(
            ("basic ", "bearer eyj")
        ):  # schemes ignore case
            return None
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() == "basic":
            try:
                return self._basic(request, value)
            except AuthenticationFailed as exc:
                # RFC 7617 §2: a failed Basic login is challenged with Basic, not the API's Bearer.
                exc.challenge = BASIC_CHALLENGE
                raise
        try:
            jwt_header = jwt.get_unverified_header(value)
        except jwt.PyJWTError:
            return None
        kid = jwt_header.get("kid")
        if not isinstance(kid, str) or not kid.startswith(secret_format.API_KEY_ID):
            return None  # another issuer's JWT (Keyward's own login tokens)
        return self._jwt(request, value, jwt_header, kid)

    def _key(self, key_id):
        """The key with its owner and organization: from memory when this process may trust it.
        The secret is checked against it on every request; an unknown key id is never cached."""
        cache = invalidation.active_cache()
        cache_key = ("api_key", key_id)
        key = cache.get(cache_key) if cache is not None else None
        if key is not None:
            return key
        sequence = cache.generation if cache is not None else None
        key = cached_keys().filter(key_id=key_id).first()
        if key is not None:
            key.limits = limits.compile_for(
                CredentialKind.API_KEY, key.pk, key.organization_id, key.limited
            )
        if key is not None and cache is not None:
            membership = key.membership
            tags = [f"key:{key.pk}", f"org:{key.organization_id}"]
            if membership is not None:
                tags += [f"member:{membership.pk}", f"user:{membership.user_id}"]
            if key.organization.group_id is not None:
                tags.append(f"group:{key.organization.group_id}")
            cache.put(cache_key, key, tags, sequence)
        return key

    def _basic(self, request, value):
        try:
            key_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise fail(
                "invalid_token", "The Basic credentials are not valid base64 of keyId:secret."
            ) from None
        if not key_id.startswith(secret_format.API_KEY_ID):
            raise fail(
                "invalid_token",
                "Basic authentication takes an API key id (kw_key_…) and its secret.",
            )
        if not secret_format.is_well_formed(secret, secret_format.API_KEY_SECRET):
            raise fail(
                "invalid_token",
                "The API key secret is malformed or mistyped (its checksum does not match).",
            )
        key = self._key(key_id)
        now = timezone.now()
        matched = services.secret_matches(key, secret, now) if key is not None else ""
        if not matched:
            raise fail("invalid_token", "Unknown API key, or wrong secret.")
        return self._principal(
            request,
            key,
            now,
            reach=key.reach,
            app_user_id="",
            previous=matched == services.PREVIOUS,
        )

    def _jwt(self, request, raw, jwt_header, kid):
        if jwt_header.get("alg") != "HS256":
            raise fail("unsupported_algorithm", "API key JWTs must be signed with HS256.")
        key = self._key(kid)
        if key is None:
            raise fail("unknown_key", "No API key has this `kid`.")
        if not key.allow_jwt:
            raise fail(
                "jwt_not_allowed", "This API key does not allow JWTs; use Basic authentication."
            )
        now = timezone.now()
        claims = None
        previous = False  # signed with the previous secret of a rotation, in its overlap
        for index, secret in enumerate(services.verification_secrets(key, now)):
            try:
                previous = index > 0
                claims = jwt.decode(
                    raw,
                    secret,
                    algorithms=["HS256"],
                    leeway=30,
                    options={"verify_aud": False, "require": ["scope"]},
                )
                break
            except jwt.ExpiredSignatureError:
                raise fail("token_expired", "The JWT's `exp` has passed.") from None
            except jwt.MissingRequiredClaimError:
                raise fail(
                    "invalid_claims", "The JWT needs a `scope` claim: app, appUser or account."
                ) from None
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError as exc:
                raise fail("invalid_token", f"The JWT is not valid: {exc}.") from None
        if claims is None:
            raise fail(
                "invalid_signature", "The JWT's signature does not match the API key's secret."
            )
        exp = claims.get("exp")
        if exp is None and key.require_jwt_exp:
            raise fail(
                "exp_required",
                "This organization requires API-key JWTs to carry `exp` (at most "
                f"{settings.API_KEY_JWT_MAX_LIFETIME_SECONDS} seconds ahead).",
            )
        if exp is not None and exp - now.timestamp() > settings.API_KEY_JWT_MAX_LIFETIME_SECONDS:
            raise fail(
                "lifetime_too_long",
                f"A JWT may live at most {settings.API_KEY_JWT_MAX_LIFETIME_SECONDS} seconds.",
            )
        reach = claims.get("scope")
        if (
            not isinstance(reach, str) or reach not in REACH_RANK
        ):  # a list or object is no scope either
            raise fail("invalid_claims", "The JWT's `scope` claim is app, appUser or account.")
        if REACH_RANK[reach] > REACH_RANK[key.reach]:
            raise fail("reach_not_allowed", f"This API key reaches `{key.reach}` at most.")
        user_id = claims.get("userId")
        if reach == "appUser" and (not isinstance(user_id, str) or not user_id):
            raise fail("user_id_required", "An appUser JWT names the contact in `userId`.")
        return self._principal(
            request, key, now, reach=reach, app_user_id=user_id or "", previous=previous
        )

    def _principal(self, request, key, now, *, reach, app_user_id, previous=False):
        usage.seen(request, CredentialKind.API_KEY, key.pk, key.organization_id, previous)
        if key.revoked_at is not None and key.revoked_at <= now:
            raise fail("token_revoked", "This API key was deleted.")
        membership = key.membership
        if membership is None or membership.organization_id != key.organization_id:
            raise fail(
                "invalid_token", "The API key's owner is no longer a member of its organization."
            )
        if not membership.user.is_active:
            raise fail("invalid_token", "The API key's owner is deactivated.")
        if key.limits is not None:
            # tokens.limits: 403 ip_not_allowed, 429 rate_limited/usage_exceeded
            key.limits(request._request.META)
        if record_use(ApiKey, key.pk, key.last_used_at, now, request):
            key.last_used_at = now  # a cached key writes its last use once per interval too
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


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """API keys: Basic with key id and secret, or a JWT the caller signs; either one will do."""

    target_class = ApiKeyAuthentication
    name = ["apiKeyBasic", "apiKeyJwt"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "basic",
                "description": "An API key: `Basic base64(keyId:secret)`. Its scopes bound the operation.",
            },
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "A JWT signed HS256 with an API key's secret: header `kid` = key id; claims "
                "`scope` (app, appUser or account), `userId` for appUser, optional `exp`.",
            },
        ]

    def get_security_requirement(self, auto_schema):
        return [{"apiKeyBasic": []}, {"apiKeyJwt": []}]
