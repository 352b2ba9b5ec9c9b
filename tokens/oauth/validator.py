"""django-oauth-toolkit's validator for third-party OAuth clients at /o/ (OAUTH2_VALIDATOR_CLASS).

What it adds to DOT's: a token is bound to the client's organization and to the
user's membership there (no membership, no code and no token), its scopes are
cut to what that membership allows, and the row gets Keyward's columns
(kind "oauth", created_ip, last4) so our bearer authentication accepts it.
Keyward's own login client never gets here: DOT's endpoints refuse it
(Application.is_usable), and login tokens are minted with their own validator.
"""

import logging

from django.utils import timezone
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from accounts import throttle
from accounts.http import client_ip_from_meta

from .. import audit, secret_format
from ..models import AccessToken, Application, AuditEvent, Kind, Reach
from .services import grantable, membership_for

log = logging.getLogger(__name__)


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

    def authenticate_client(self, request, *args, **kwargs):
        # One throttle for every door that takes a secret (issue 10): the attempt is counted
        # before the secret is checked; when throttled, accounts.throttle.Throttled reaches
        # portal.middleware.ThrottledMiddleware (429, Retry-After, `slow_down`).
        presented = throttle.basic_auth_user((request.headers or {}).get("HTTP_AUTHORIZATION"))
        client_id = presented or request.client_id
        attempt = throttle.reserve(account=f"client:{client_id}" if client_id else None, ip=_ip(request))
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        attempt.succeeded()
        return True

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        # The user may have left the organization between consent and exchange.
        return self._membership(request) is not None

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        return self._membership(request) is not None

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
        return super().save_authorization_code(client_id, code, request, *args, **kwargs)

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
        audit.record(action=AuditEvent.Action.ISSUED, credential=access_token, actor=request.user,
                     ip=_ip(request), detail=f"{request.grant_type} for client {client.pk}")
        return access_token

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        # DOT revokes only the requesting client's tokens (RFC 7009 §2.1) and, through our
        # AccessToken.revoke(), soft-revokes them so they answer `token_revoked` at once.
        digest = secret_format.digest(token)
        live = AccessToken.objects.filter(
            application_id=getattr(request.client, "pk", None), revoked_at__isnull=True
        ).select_related("organization")
        target = live.filter(token_checksum=digest).first() or live.filter(
            refresh_token__token_checksum=digest, refresh_token__revoked__isnull=True
        ).first()
        super().revoke_token(token, token_type_hint, request, *args, **kwargs)
        if target is not None:
            audit.record(action=AuditEvent.Action.REVOKED, credential=target, ip=_ip(request),
                         detail="revoked by its client (RFC 7009)")
