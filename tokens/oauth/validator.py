"""django-oauth-toolkit's validator for third-party OAuth clients at /o/ (OAUTH2_VALIDATOR_CLASS).

What it adds to DOT's: a token is bound to the client's organization and to the
user's membership there (no membership, no code and no token), its scopes are
cut to what that membership allows, and the row gets Keyward's columns
(kind "oauth", created_ip, last4) so our bearer authentication accepts it.
Keyward's own login client never gets here: DOT's endpoints refuse it
(Application.is_usable), and login tokens are minted with their own validator.
"""

import datetime
import hashlib
import logging
import re

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from oauth2_provider.models import Grant
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from accounts import throttle
from accounts.http import client_ip_from_meta

from .. import audit, secret_format
from ..models import AccessToken, Application, AuditEvent, Kind, Reach, RefreshToken
from .services import grantable, membership_for

log = logging.getLogger(__name__)

# A rotated refresh token presented again this soon after its rotation is a client's retry
# or a concurrent duplicate (a lost response, two tabs): refused, its family left alive.
# Later, it is reuse (RFC 9700 §4.14.2) and the whole family is revoked. Same rule and
# window as the login refresh.
CONCURRENT_REFRESH_WINDOW = datetime.timedelta(seconds=2)

# RFC 7636 §4.1 and §4.2: a verifier is 43 to 128 unreserved characters; an S256 challenge is
# BASE64URL(SHA256(verifier)) without padding, always 43 characters.
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")

USED_CODE_CACHE_KEY = "oauth:used-code:{}"


def code_digest(raw):
    """What the Grant row keeps instead of the authorization code: its SHA-256, looked up exactly."""
    return hashlib.sha256(raw.encode()).hexdigest()


def access_token_generator(request):
    """`kw_oat_…`: recognisable when leaked, checksummed so a typo is refused early."""
    return secret_format.generate(secret_format.OAUTH_TOKEN)


def refresh_token_generator(request):
    return secret_format.generate(secret_format.REFRESH_TOKEN)


def _ip(request):
    # DOT copies Django's META into the oauthlib request's headers.
    return client_ip_from_meta(request.headers or {})


class KeywardOAuth2Validator(OAuth2Validator):
    """DOT's validator, binding every code and token to a membership of the client's organization."""

    def _membership(self, request):
        membership = getattr(request, "keyward_membership", None)
        if membership is None and request.user is not None:
            membership = membership_for(request.client, request.user)
            request.keyward_membership = membership
        return membership

    # --- client authentication ---------------------------------------------------------

    def authenticate_client(self, request, *args, **kwargs):
        # One throttle for every door that takes a secret: the attempt is counted
        # before the secret is checked; when throttled, accounts.throttle.Throttled reaches
        # portal.middleware.ThrottledMiddleware (429, Retry-After, `slow_down`).
        presented = throttle.basic_auth_user((request.headers or {}).get("HTTP_AUTHORIZATION"))
        client_id = presented or request.client_id
        attempt = throttle.reserve(
            account=f"client:{client_id}" if client_id else None,
            ip=_ip(request),
            account_limit=settings.OAUTH_CLIENT_FAILURES_PER_CLIENT,
        )
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        attempt.succeeded()
        return True

    def _extract_basic_auth(self, request):
        # DOT compares the scheme with "Basic" exactly; schemes are case-insensitive (RFC 9110 §11.1).
        auth = (request.headers or {}).get("HTTP_AUTHORIZATION")
        scheme, _, value = (auth or "").partition(" ")
        if scheme.lower() != "basic" or not value.strip():
            return None
        return value.strip()

    # --- authorization codes: only their digest is stored (Grant.code) -------------------
    # DOT keeps the code itself in `Grant.code`; every method below that reaches a Grant by
    # its code hands DOT the digest instead, so a database reader finds no usable code.

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        membership = self._membership(request)
        if membership is None:
            raise errors.AccessDeniedError(
                description="You are not a member of the organization that registered this client.",
                request=request,
            )
        request.scopes = grantable(request.scopes, membership)
        if not request.scopes:
            raise errors.InvalidScopeError(
                description="None of the requested scopes is available to you.", request=request
            )
        # A copy: oauthlib sends `code` (the raw one) back to the client afterwards.
        stored = {**code, "code": code_digest(code["code"])}
        return super().save_authorization_code(client_id, stored, request, *args, **kwargs)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if not super().validate_code(
            client_id, code_digest(code), client, request, *args, **kwargs
        ):
            self._revoke_tokens_of_replayed_code(code, request)
            return False
        # The user may have left the organization between consent and exchange.
        return self._membership(request) is not None

    def _revoke_tokens_of_replayed_code(self, code, request):
        """RFC 6749 §4.1.2: a code used twice revokes the tokens issued from it (the first use
        may have been an attacker's, or the second is); remembered for one access-token lifetime."""
        family = cache.get(USED_CODE_CACHE_KEY.format(code_digest(code)))
        if family is None:
            return
        cache.delete(USED_CODE_CACHE_KEY.format(code_digest(code)))
        tokens = list(
            AccessToken.objects.filter(
                refresh_token__token_family=family, refresh_token__revoked__isnull=True
            )
        )
        # Audited first: DOT deletes the family's access tokens.
        audit.record_each(
            tokens,
            action=AuditEvent.Action.REVOKED,
            ip=_ip(request),
            detail="authorization code replayed (RFC 6749 §4.1.2)",
        )
        RefreshToken.revoke_family(family)
        log.warning(
            "authorization code of client %s replayed; %s token(s) revoked",
            getattr(request.client, "pk", None),
            len(tokens),
        )

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, *args, **kwargs):
        grant = Grant.objects.filter(code=code_digest(code), application=client).first()
        if grant is None or not grant.redirect_uri_allowed(redirect_uri):
            # oauthlib answers a mismatch `invalid_request`; RFC 6749 §4.1.3 and §5.2 say the
            # grant is what does not match: `invalid_grant`.
            raise errors.InvalidGrantError(
                description="The redirect_uri differs from the one of the authorization request.",
            )
        return True

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        # Already deleted, in the transaction that saved the tokens (_save_bearer_token).
        pass

    def get_code_challenge(self, code, request):
        challenge = super().get_code_challenge(code_digest(code), request)
        verifier = request.code_verifier
        if challenge is not None and verifier is not None and not VERIFIER.fullmatch(verifier):
            raise errors.InvalidRequestError(
                description="code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1).",
                request=request,
            )
        return challenge

    def get_code_challenge_method(self, code, request):
        return super().get_code_challenge_method(code_digest(code), request)

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request):
        return super().get_authorization_code_scopes(
            client_id, code_digest(code), redirect_uri, request
        )

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request):
        return super().get_authorization_code_nonce(
            client_id, code_digest(code), redirect_uri, request
        )

    def is_pkce_required(self, client_id, request):
        # oauthlib asks this before it looks at the challenge of an authorization request, so
        # it is where S256 and a well-formed challenge are required (RFC 9700 §2.1.1; oauthlib
        # takes `plain`, and any challenge string).
        if getattr(request, "response_type", None) and request.code_challenge is not None:
            if request.code_challenge_method != "S256":
                raise errors.InvalidRequestError(
                    description="code_challenge_method must be S256 (plain is not accepted).",
                    request=request,
                )
            if not S256_CHALLENGE.fullmatch(request.code_challenge):
                raise errors.InvalidRequestError(
                    description="code_challenge must be the 43-character base64url SHA-256 of the verifier.",
                    request=request,
                )
        return super().is_pkce_required(client_id, request)

    # --- refresh --------------------------------------------------------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        # Under the row lock, so the state judged here is the state DOT then judges: without
        # it a rotation committing in between made DOT see a reuse and revoke the family.
        with transaction.atomic():
            if self._rotated_moments_ago(refresh_token, client):
                raise errors.InvalidGrantError(
                    description="The refresh token was just used by a concurrent request; use the pair it received.",
                    request=request,
                )
            if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
                return False
        return self._membership(request) is not None

    def _rotated_moments_ago(self, raw, client):
        """Lock the presented refresh token's row; True if a rotation superseded it within the window."""
        rt = (
            RefreshToken.objects.select_for_update()
            .filter(token_checksum=secret_format.digest(raw), application_id=client.pk)
            .order_by(F("revoked").desc(nulls_first=True))
            .only("pk", "revoked")
            .first()
        )
        return (
            rt is not None
            and rt.revoked is not None
            and timezone.now() < rt.revoked + CONCURRENT_REFRESH_WINDOW
            and AccessToken.objects.filter(source_refresh_token=rt).exists()  # rotated, not revoked
        )

    def _save_bearer_token(self, token, request, *args, **kwargs):
        # Runs inside DOT's transaction (save_bearer_token).
        if request.grant_type == "refresh_token":
            self._lock_unrotated(request)
        elif request.grant_type == "authorization_code":
            self._consume_code(request)
        result = super()._save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type == "authorization_code" and token.get("refresh_token"):
            family = (
                RefreshToken.objects.filter(
                    token_checksum=secret_format.digest(token["refresh_token"])
                )
                .values_list("token_family", flat=True)
                .first()
            )
            cache.set(
                USED_CODE_CACHE_KEY.format(code_digest(request.code)),
                family,
                timeout=settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"],
            )
        return result

    def _lock_unrotated(self, request):
        """Lock the presented refresh token; refuse it if a concurrent request rotated it meanwhile.

        Works around a DOT 3.4.1 bug: two refreshes of one token both pass validation, the
        second waits for the first's lock, then finds the access token the first minted
        and returns `previous_access_token.token`, empty under hashed storage (a 500). Its
        grace-period path cannot work with digests at rest, so the loser is answered
        `invalid_grant` here, before DOT's code runs, and the winner's pair stays valid.
        """
        rt = getattr(request, "refresh_token_instance", None)
        if not isinstance(rt, RefreshToken):
            return
        current = (
            RefreshToken.objects.select_for_update().filter(pk=rt.pk).only("pk", "revoked").first()
        )
        if current is None or current.revoked is not None:
            raise errors.InvalidGrantError(
                description="The refresh token was just used by a concurrent request; use the pair it received.",
                request=request,
            )

    def _consume_code(self, request):
        """Delete the grant in the transaction that saves the tokens: of two concurrent exchanges
        of one code, the second deletes nothing and is refused, its tokens rolled back.
        (oauthlib deletes the code only after the tokens are saved, outside any transaction.)"""
        deleted, _ = Grant.objects.filter(
            code=code_digest(request.code), application=request.client
        ).delete()
        if not deleted:
            raise errors.InvalidGrantError(request=request)

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        membership = self._membership(request)
        scope = " ".join(grantable(token["scope"].split(), membership))
        token["scope"] = scope  # the response tells the client what it really got
        client = request.client
        now = timezone.now()
        access_token = AccessToken(
            kind=Kind.OAUTH,
            name=client.name[:100],
            user=request.user,
            membership=membership,
            organization_id=client.organization_id,
            scope=scope,
            expires=expires,
            application=client,
            source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", None) or [],
            created_by=request.user,
            created_ip=_ip(request),
            user_agent=((request.headers or {}).get("HTTP_USER_AGENT") or "")[:255],
            last4=token["access_token"][-4:],
            reach=Reach.APP,
        )
        self._set_token_value(access_token, token["access_token"])
        access_token.save()
        Application.objects.filter(pk=client.pk).update(last_used_at=now)
        audit.record(
            action=AuditEvent.Action.ISSUED,
            credential=access_token,
            actor=request.user,
            ip=_ip(request),
            detail=f"{request.grant_type} for client {client.pk}",
        )
        return access_token

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        # DOT revokes only the requesting client's tokens (RFC 7009 §2.1) and, through our
        # AccessToken.revoke(), soft-revokes them so they answer `token_revoked` at once.
        digest = secret_format.digest(token)
        live = AccessToken.objects.filter(
            application_id=getattr(request.client, "pk", None), revoked_at__isnull=True
        ).select_related("organization")
        target = (
            live.filter(token_checksum=digest).first()
            or live.filter(
                refresh_token__token_checksum=digest, refresh_token__revoked__isnull=True
            ).first()
        )
        super().revoke_token(token, token_type_hint, request, *args, **kwargs)
        if target is not None:
            audit.record(
                action=AuditEvent.Action.REVOKED,
                credential=target,
                ip=_ip(request),
                detail="revoked by its client (RFC 7009)",
            )
