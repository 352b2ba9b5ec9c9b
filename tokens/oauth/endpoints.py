"""Keyward's own versions of DOT's /o/ endpoints (tokens.oauth.urls routes them).

The consent page (/o/authorize/) in the portal's look, asked only of members of
the client's organization; the token and revocation endpoints with RFC 6749's
Basic challenge and client credentials refused in the URL; RFC 7662
introspection for trusted clients, by POST; RFC 8414 metadata; and DOT's own
client and token management pages turned off.
"""

import datetime
import json
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as dot_views
from oauth2_provider.exceptions import FatalClientError
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OAuthRequest

from .. import scopes as catalog
from .. import secret_format
from ..models import AccessToken, Application, Kind, RefreshToken
from . import services

# RFC 6749 §2.3.1: client credentials (and, by the same reasoning, codes, verifiers and
# tokens) travel in the form body or the Authorization header; a URL lands in access logs.
# oauthlib reads the query string as well as the body, so these are refused up front.
BODY_ONLY_PARAMETERS = frozenset(
    {
        "client_id",
        "client_secret",
        "code",
        "code_verifier",
        "refresh_token",
        "token",
        "access_token",
        "password",
        "username",
        "assertion",
    }
)
BASIC_CHALLENGE = 'Basic realm="keyward"'
INTROSPECTION_METHODS = "POST, OPTIONS"

# --- /o/authorize/: the consent page ------------------------------------------------


def _by_domain(names):
    """[(domain name, [Scope, …]), …] in catalog order, for a readable consent list."""
    groups = {}
    for name in names:
        groups.setdefault(catalog.DOMAIN_OF[name], []).append(catalog.SCOPES[name])
    return list(groups.items())


class ConsentView(AuthorizationView):
    """DOT's authorization endpoint, asking the user in the portal's look.

    Only members of the client's organization may grant; the scopes offered are
    the requested ones their membership allows, described from the catalog.
    Consent is asked every time (`approval_prompt=auto` is ignored), so a revoked
    grant is never silently renewed.
    """

    template_name = "tokens/oauth/authorize.html"

    def dispatch(self, request, *args, **kwargs):
        if "approval_prompt" in request.GET:
            query = request.GET.copy()
            del query["approval_prompt"]
            request.GET = query
        self._consent = None
        return super().dispatch(request, *args, **kwargs)

    def _consent_for(self, application):
        if self._consent is None or self._consent["application"] != application:
            membership = services.membership_for(application, self.request.user)
            requested = self.oauth2_data.get("scopes", [])
            granted = services.grantable(requested, membership) if membership else []
            self._consent = {
                "application": application,
                "membership": membership,
                "granted": [catalog.SCOPES[name] for name in granted],
                "granted_by_domain": _by_domain(granted),
                "refused": [
                    catalog.SCOPES[name]
                    for name in catalog.ordered(catalog.expand(" ".join(requested)) - set(granted))
                ],
            }
            if membership is not None:
                self.request.membership = membership  # the page header shows the organization
        return self._consent

    def get_initial(self):
        initial = super().get_initial()
        application = self.oauth2_data.get("application")
        if application is not None:
            # Only what the member may grant is posted back; with nothing grantable the
            # request stays as asked, so Cancel still answers the client with access_denied.
            granted = " ".join(scope.name for scope in self._consent_for(application)["granted"])
            initial["scope"] = granted or initial["scope"]
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = context.get("application")
        if application is not None:
            context.update(self._consent_for(application))
        return context

    def render_to_response(self, context, **response_kwargs):
        if context.get("application") is not None and context.get("membership") is None:
            response_kwargs["status"] = 403
        return super().render_to_response(context, **response_kwargs)

    def error_response(self, error, application, **kwargs):
        # DOT's GET path passes no application, so its redirect would be judged by the global
        # schemes (https only) and a native app's loopback URI (RFC 8252 §7.3) would raise
        # DisallowedRedirect. oauthlib raises a redirectable error only once the client and its
        # redirect_uri checked out, so that client's own schemes apply.
        if application is None and not isinstance(error, FatalClientError):
            client_id = error.oauthlib_error.client_id
            application = (
                Application.objects.filter(client_id=client_id).first() if client_id else None
            )
        return super().error_response(error, application, **kwargs)

    def redirect(self, redirect_to, application):
        # RFC 9207 §2: `iss` in every authorization response, errors included (DOT adds it
        # to successful ones only).
        if "iss" not in parse_qs(urlsplit(redirect_to).query):
            issuer = oauth2_settings.oauth2_authorization_server_issuer(self.request)
            redirect_to += ("&" if "?" in redirect_to else "?") + urlencode({"iss": issuer})
        return super().redirect(redirect_to, application)

    def form_valid(self, form):
        application = (
            Application.objects.select_related("organization")
            .filter(client_id=form.cleaned_data["client_id"])
            .first()
        )
        if application is None or not application.is_usable(self.request):
            raise Http404("No such client.")
        if services.membership_for(application, self.request.user) is None:
            return self.render_to_response({"application": application, "membership": None})
        return super().form_valid(form)


# --- /o/introspect/ (RFC 7662) ------------------------------------------------------


def _oauth_error(error, description, status):
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _parameters_in_url(request):
    """A 400 `invalid_request` when the URL carries a credential parameter, else None."""
    named = sorted(BODY_ONLY_PARAMETERS.intersection(request.GET))
    if not named:
        return None
    return _oauth_error(
        "invalid_request",
        f"{', '.join(named)} must be sent in the form body or the Authorization header, never in the URL.",
        400,
    )


def _json_body(request):
    """A 400 `invalid_request` when the body is JSON, else None.

    RFC 6749 §4.1.3, RFC 7009 §2.1 and RFC 7662 §2.1 take form-encoded bodies; DOT would read
    a JSON body as a form without fields and answer with a misleading `unsupported_grant_type`."""
    media_type = request.content_type.lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        return None
    return _oauth_error(
        "invalid_request",
        "The body must be form-encoded (Content-Type: application/x-www-form-urlencoded), not JSON.",
        400,
    )


def _refused_request(request):
    return _parameters_in_url(request) or _json_body(request)


def _basic_challenge(response):
    # RFC 6749 §5.2: a client that failed authentication is challenged with the scheme it
    # authenticates with (oauthlib answers with a Bearer challenge).
    if response.status_code == 401:
        response["WWW-Authenticate"] = BASIC_CHALLENGE
    # An error raised while saving tokens reaches DOT's view without oauthlib's default
    # headers: RFC 6749 §5.1 and §5.2 still want JSON, never cached.
    if response.content.startswith(b"{"):
        response["Content-Type"] = "application/json"
        response["Cache-Control"] = "no-store"
    return response


class TokenView(dot_views.TokenView):
    """DOT's token endpoint: credentials never from the URL, a form body only; a failed client is
    challenged with Basic."""

    def post(self, request, *args, **kwargs):
        return _refused_request(request) or _basic_challenge(super().post(request, *args, **kwargs))


class RevokeTokenView(dot_views.RevokeTokenView):
    """DOT's RFC 7009 endpoint, with the same rules as the token endpoint."""

    def post(self, request, *args, **kwargs):
        return _refused_request(request) or _basic_challenge(super().post(request, *args, **kwargs))


def _authenticated_client(request):
    """The client whose credentials (Basic, or client_id + client_secret in the body) are valid, or None."""
    core = OAuthLibMixin.get_oauthlib_core()
    uri, http_method, body, headers = core._extract_params(request)
    oauth_request = OAuthRequest(uri, http_method, body, headers)
    if not core.server.request_validator.authenticate_client(oauth_request):
        return None
    client = oauth_request.client
    # A public client has no secret to prove who it is.
    return client if client.client_type == Application.CLIENT_CONFIDENTIAL else None


def _live_refresh_token(client, digest):
    """The refresh token of this client with this digest, if DOT would still take it at /o/token/."""
    rt = (
        RefreshToken.objects.select_related("access_token")
        .filter(token_checksum=digest, application_id=client.pk, revoked__isnull=True)
        .first()
    )
    if rt is None or rt.access_token is None:
        return None
    expires = rt.access_token.expires + datetime.timedelta(
        seconds=settings.OAUTH_REFRESH_TOKEN_IDLE_SECONDS
    )
    return (rt, expires) if expires > timezone.now() else None


def describe_token(client, raw):
    """RFC 7662 §2.2 for a token of this client; anything else is exactly `{"active": false}`."""
    inactive = {"active": False}
    digest = secret_format.digest(raw)
    tokens = AccessToken.objects.select_related("membership", "user", "organization").filter(
        application_id=client.pk, kind=Kind.OAUTH
    )
    token = tokens.filter(token_checksum=digest).first()
    refresh = None
    if token is None:
        # A live refresh token is active too (RFC 7662 §2.2), described by its access token's grant.
        refresh = _live_refresh_token(client, digest)
        if refresh is None:
            return inactive
        token = tokens.filter(pk=refresh[0].access_token_id).first()
        if token is None or token.revoked_at is not None:
            return inactive
    elif not token.is_live():
        return inactive
    if token.organization_id != client.organization_id:
        return inactive
    membership = token.membership
    if (
        membership is None
        or membership.organization_id != token.organization_id
        or not token.user.is_active
    ):
        return inactive
    scopes = catalog.effective(token.scope, membership.role, membership.developer_access)
    answer = {
        "active": True,
        "scope": " ".join(catalog.ordered(scopes)),
        "client_id": client.client_id,
        "username": token.user.email,
        "token_type": "Bearer",
        "iat": int(token.created.timestamp()),
        "sub": str(token.user_id),
        "org": token.organization.public_id,
    }
    if refresh is not None:
        answer["token_type"] = "refresh_token"
        answer["iat"] = int(refresh[0].created.timestamp())
        answer["exp"] = int(refresh[1].timestamp())
    elif token.expires is not None:
        answer["exp"] = int(token.expires.timestamp())
    return answer


@csrf_exempt
def introspect(request):
    """Only clients allowed to introspect, authenticated by their credentials, by POST only.

    Replaces DOT's view, which also answers GET `?token=` (a token in a URL lands in
    logs) and any bearer with the `introspection` scope.
    """
    if request.method == "OPTIONS":
        # As Django's class-based views (the token and revocation endpoints) answer it.
        response = HttpResponse()
        response["Allow"] = INTROSPECTION_METHODS
        return response
    if request.method != "POST":
        response = _oauth_error(
            "invalid_request",
            "Introspection takes a POST with a form-encoded `token` (RFC 7662).",
            405,
        )
        response["Allow"] = INTROSPECTION_METHODS
        return response
    refused = _refused_request(request)
    if refused:
        return refused
    client = _authenticated_client(request)
    if client is None:
        return _basic_challenge(
            _oauth_error("invalid_client", "Client authentication failed.", 401)
        )
    if not client.allow_introspection:
        return _oauth_error(
            "unauthorized_client", "This client is not allowed to introspect tokens.", 403
        )
    raw = request.POST.get("token", "")
    if not raw:
        return _oauth_error("invalid_request", "The `token` parameter is missing.", 400)
    response = JsonResponse(describe_token(client, raw))
    response["Cache-Control"] = "no-store"
    return response


# --- /.well-known/oauth-authorization-server (RFC 8414) ------------------------------

METADATA_MAX_AGE = 3600


def issuer_origin():
    """The configured issuer's origin (settings: OAUTH_ISSUER, else PORTAL_BASE_URL): the base of
    every absolute URL Keyward publishes, so a cached document never carries a caller's Host."""
    parts = urlsplit(oauth2_settings.OIDC_ISS_ENDPOINT)
    return f"{parts.scheme}://{parts.netloc}"


class ServerMetadataView(dot_views.OAuthServerMetadataView):
    """DOT's RFC 8414 document, completed: the JWKS of login tokens, the scope catalog, the
    docs, RFC 9207's `iss`, and only what Keyward accepts (code + S256, refresh)."""

    def get(self, request, *args, **kwargs):
        data = json.loads(super().get(request, *args, **kwargs).content)
        origin = issuer_origin()
        data.update(
            {
                "jwks_uri": origin + reverse("jwks"),
                "scopes_supported": catalog.ordered(catalog.SCOPES) + list(catalog.ROLE_BUNDLES),
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "code_challenge_methods_supported": ["S256"],
                "service_documentation": origin + reverse("api_docs"),
                "authorization_response_iss_parameter_supported": True,
            }
        )
        # A public client has no secret: it authenticates with `none` at the token endpoint
        # (PKCE proves the code is its own); revocation and introspection need a secret.
        data["revocation_endpoint_auth_methods_supported"] = [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ]
        data["introspection_endpoint_auth_methods_supported"] = [
            "client_secret_basic",
            "client_secret_post",
        ]
        response = JsonResponse(data)
        response["Cache-Control"] = f"public, max-age={METADATA_MAX_AGE}"
        response["Access-Control-Allow-Origin"] = "*"
        return response


def not_found(request, *args, **kwargs):
    """DOT's own application and token management pages: Keyward manages clients in the portal."""
    raise Http404("Not found.")
