"""Portal pages for OAuth clients and grants, the consent page, and RFC 7662 introspection.

A view reads top to bottom: who may do this, fetch through the organization or
membership, call the service (tokens.oauth_clients), render. A new client
secret is rendered straight from the service's return value in a `no-store`
response, never through `messages`, the session or a redirect.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from oauth2_provider.views import AuthorizationView
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OAuthRequest

from accounts.decorators import developer_required, member_required
from accounts.errors import Refused
from accounts.http import client_ip

from . import oauth_clients, secret_format
from . import scopes as catalog
from .models import AccessToken, Application, Kind

CLIENTS_PER_PAGE = 25
GRANTS_PER_PAGE = 50


# --- forms --------------------------------------------------------------------------


class OAuthClientForm(forms.Form):
    name = forms.CharField(max_length=oauth_clients.NAME_MAX_LENGTH)
    redirect_uris = forms.CharField(
        label="Redirect URIs", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line. https:// only; http:// is allowed for localhost.",
    )
    client_type = forms.ChoiceField(
        label="Client type", initial=Application.CLIENT_CONFIDENTIAL, widget=forms.RadioSelect,
        choices=[
            (Application.CLIENT_CONFIDENTIAL, "Confidential: a server that can keep a secret"),
            (Application.CLIENT_PUBLIC, "Public: a browser or mobile app (PKCE only, no secret)"),
        ],
    )
    allow_introspection = forms.BooleanField(
        label="May introspect its tokens (/o/introspect/)", required=False
    )

    def __init__(self, *args, membership, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["client_type"]
        if not membership.is_admin:
            del self.fields["allow_introspection"]

    def add_service_error(self, exc):
        field = exc.field if exc.field in self.fields else None
        self.add_error(field, exc.message)


def _client_form(request, data=None, *, application=None):
    initial = None
    if application is not None:
        initial = {
            "name": application.name,
            "redirect_uris": "\n".join(application.redirect_uris.split()),
            "allow_introspection": application.allow_introspection,
        }
    return OAuthClientForm(data, initial=initial, membership=request.membership, editing=application is not None)


def _get_client(request, client_pk):
    return get_object_or_404(oauth_clients.visible_clients(request.membership), pk=client_pk)


def _list_context(request, form):
    paginator = Paginator(oauth_clients.visible_clients(request.membership), CLIENTS_PER_PAGE)
    return {"page": paginator.get_page(request.GET.get("page")), "form": form}


def _secret_context(request, issued):
    """The one moment a secret is on a page: straight from the service, recorded as shown."""
    if issued.secret is None:
        return {}
    return {"secret": oauth_clients.reveal_secret(issued, by=request.user, ip=client_ip(request))}


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


# --- the developer's OAuth clients --------------------------------------------------


@developer_required
@require_GET
def client_list(request):
    """Developer › OAuth clients: the register form and the list (admins: every client of the org)."""
    return render(request, "tokens/oauth_clients.html", _list_context(request, _client_form(request)))


@never_cache
@developer_required
@require_POST
def client_create(request):
    form = _client_form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            issued = oauth_clients.create_client(
                membership=request.membership, name=data["name"], redirect_uris=data["redirect_uris"],
                client_type=data["client_type"], allow_introspection=data.get("allow_introspection", False),
                ip=client_ip(request),
            )
        except Refused as exc:
            form.add_service_error(exc)
        else:
            context = {"application": issued.application, "created": True, **_secret_context(request, issued)}
            return _no_store(render(request, "tokens/oauth_client_detail.html", _detail_context(request, **context)))
    return render(request, "tokens/oauth_clients.html", _list_context(request, form), status=400)


def _detail_context(request, application, form=None, **extra):
    return {
        "application": application,
        "form": form or _client_form(request, application=application),
        "token_count": oauth_clients.live_grants(organization_id=application.organization_id)
        .filter(application=application).count(),
        "authorize_url": request.build_absolute_uri("/o/authorize/"),
        "token_url": request.build_absolute_uri("/o/token/"),
        **extra,
    }


@developer_required
@require_GET
def client_detail(request, client_pk):
    application = _get_client(request, client_pk)
    return render(request, "tokens/oauth_client_detail.html", _detail_context(request, application))


@developer_required
@require_POST
def client_update(request, client_pk):
    application = _get_client(request, client_pk)
    form = _client_form(request, request.POST, application=application)
    if form.is_valid():
        data = form.cleaned_data
        try:
            oauth_clients.update_client(
                application=application, by=request.user, membership=request.membership, name=data["name"],
                redirect_uris=data["redirect_uris"], allow_introspection=data.get("allow_introspection"),
                ip=client_ip(request),
            )
        except Refused as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, "Client saved.")
            return redirect("oauth_client_detail", org_id=request.organization.public_id, client_pk=application.pk)
    application.refresh_from_db()
    return render(request, "tokens/oauth_client_detail.html", _detail_context(request, application, form=form),
                  status=400)


@never_cache
@developer_required
@require_POST
def client_regenerate_secret(request, client_pk):
    application = _get_client(request, client_pk)
    try:
        issued = oauth_clients.regenerate_secret(application=application, by=request.user, ip=client_ip(request))
    except Refused as exc:
        context = _detail_context(request, application, error=exc.message)
        return render(request, "tokens/oauth_client_detail.html", context, status=400)
    context = _detail_context(request, issued.application, regenerated=True, **_secret_context(request, issued))
    return _no_store(render(request, "tokens/oauth_client_detail.html", context))


@developer_required
@require_http_methods(["GET", "POST"])
def client_delete(request, client_pk):
    """GET asks for confirmation; POST deletes the client and every token issued to it."""
    application = _get_client(request, client_pk)
    if request.method == "GET":
        return render(request, "tokens/oauth_client_delete.html", _detail_context(request, application))
    name = application.name
    oauth_clients.delete_client(application=application, by=request.user, ip=client_ip(request))
    messages.success(request, f"Client “{name}” deleted. Every token issued to it stopped working.")
    return redirect("oauth_clients", org_id=request.organization.public_id)


# --- the member's grants to clients ----------------------------------------------------


def _grants_context(request):
    grants = oauth_clients.live_grants(organization_id=request.organization.pk, user_id=request.user.pk)
    return {"page": Paginator(grants, GRANTS_PER_PAGE).get_page(request.GET.get("page"))}


@member_required
@require_GET
def grant_list(request):
    """Apps you authorized in this organization: every member sees (and revokes) their own."""
    return render(request, "tokens/oauth_grants.html", _grants_context(request))


@member_required
@require_POST
def grant_revoke(request, token_pk):
    token = get_object_or_404(
        oauth_clients.live_grants(organization_id=request.organization.pk, user_id=request.user.pk)
        .select_related("organization"),
        pk=token_pk,
    )
    oauth_clients.revoke_grant(token=token, by=request.user, ip=client_ip(request))
    if request.htmx:
        return render(request, "tokens/partials/oauth_grant_revoked.html", {"token": token})
    messages.success(request, f"Access for “{token.application.name}” revoked.")
    return redirect("oauth_grants", org_id=request.organization.public_id)


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

    template_name = "oauth2_provider/authorize.html"

    def dispatch(self, request, *args, **kwargs):
        if "approval_prompt" in request.GET:
            query = request.GET.copy()
            del query["approval_prompt"]
            request.GET = query
        self._consent = None
        return super().dispatch(request, *args, **kwargs)

    def _consent_for(self, application):
        if self._consent is None or self._consent["application"] != application:
            membership = oauth_clients.membership_for(application, self.request.user)
            requested = self.oauth2_data.get("scopes", [])
            granted = oauth_clients.grantable(requested, membership) if membership else []
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
        if oauth_clients.membership_for(application, self.request.user) is None:
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
