"""Keyward's own versions of three of DOT's /o/ endpoints (tokens.oauth.urls routes them first).

The consent page (/o/authorize/) in the portal's look, asked only of members of
the client's organization; RFC 7662 introspection for trusted clients, by POST;
and DOT's own client and token management pages turned off.
"""

from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views import AuthorizationView
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OAuthRequest

from .. import scopes as catalog
from .. import secret_format
from ..models import AccessToken, Application, Kind
from . import services

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
                "refused": [catalog.SCOPES[name] for name in
                            catalog.ordered(catalog.expand(" ".join(requested)) - set(granted))],
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

    def form_valid(self, form):
        application = (
            Application.objects.select_related("organization")
            .filter(client_id=form.cleaned_data["client_id"]).first()
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


def describe_token(client, raw):
    """RFC 7662 §2.2 for a token of this client; anything else is exactly `{"active": false}`."""
    inactive = {"active": False}
    token = (
        AccessToken.objects.select_related("membership", "user", "organization")
        .filter(token_checksum=secret_format.digest(raw), application_id=client.pk, kind=Kind.OAUTH)
        .first()
    )
    if token is None or token.organization_id != client.organization_id or not token.is_live():
        return inactive
    membership = token.membership
    if membership is None or membership.organization_id != token.organization_id or not token.user.is_active:
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
    if token.expires is not None:
        answer["exp"] = int(token.expires.timestamp())
    return answer


@csrf_exempt
def introspect(request):
    """Only clients allowed to introspect, authenticated by their credentials, by POST only.

    Replaces DOT's view, which also answers GET `?token=` (a token in a URL lands in
    logs) and any bearer with the `introspection` scope.
    """
    if request.method != "POST":
        response = _oauth_error(
            "invalid_request", "Introspection takes a POST with a form-encoded `token` (RFC 7662).", 405
        )
        response["Allow"] = "POST"
        return response
    client = _authenticated_client(request)
    if client is None:
        response = _oauth_error("invalid_client", "Client authentication failed.", 401)
        response["WWW-Authenticate"] = 'Basic realm="keyward"'
        return response
    if not client.allow_introspection:
        return _oauth_error("unauthorized_client", "This client is not allowed to introspect tokens.", 403)
    raw = request.POST.get("token", "")
    if not raw:
        return _oauth_error("invalid_request", "The `token` parameter is missing.", 400)
    response = JsonResponse(describe_token(client, raw))
    response["Cache-Control"] = "no-store"
    return response


def not_found(request, *args, **kwargs):
    """DOT's own application and token management pages: Keyward manages clients in the portal."""
    raise Http404("Not found.")
