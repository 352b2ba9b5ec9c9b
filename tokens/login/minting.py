"""Minting a login pair through django-oauth-toolkit's server and validator.

DOT gives hashed storage, token families and rotation; it mints against Keyward's
first-party public application with our own generators: an Ed25519-signed JWT
(signing_keys) and a `kw_rt_` refresh token. The access token row keeps only the
digest, like every credential. Callers (services) hold the transaction and write
the audit event.
"""

import datetime
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OAuthRequest

from accounts.models import Membership

from .. import secret_format
from ..models import AccessToken, Application, Kind, Reach, RefreshToken
from ..one_time import OneTimeSecret
from . import signing_keys

LOGIN_CLIENT_ID = Application.LOGIN_CLIENT_ID


@dataclass
class LoginPair:
    """A freshly issued pair; both secrets are readable once (a pair, so two `OneTimeSecret`s
    rather than one `Issued`)."""

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

    def _create_refresh_token(
        self, request, refresh_token_code, access_token, previous_refresh_token
    ):
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
    token = signing_keys.sign(claims)
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
def mint(
    *,
    membership,
    scope,
    grant_type,
    ip,
    user_agent,
    application,
    refresh_token=None,
    raw_refresh=None,
):
    """A new pair for `membership`; with `refresh_token` (and its plaintext), DOT rotates that one."""
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
