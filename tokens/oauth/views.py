"""Portal pages: the developer's OAuth clients, and the apps a member authorized.

A view reads top to bottom: who may do this, fetch through the organization or
membership, call the service (tokens.oauth.services), render. A new client
secret is rendered straight from the service's return value in a `no-store`
response, never through `messages`, the session or a redirect.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import developer_required, member_required
from accounts.errors import Refused
from accounts.http import client_ip

from .. import audit
from ..models import AccessToken, Application
from . import services
from .forms import OAuthClientForm

CLIENTS_PER_PAGE = 25
GRANTS_PER_PAGE = 50


def _visible_clients(request):
    return Application.objects.visible_to(request.membership)


def _get_client(request, client_pk):
    return get_object_or_404(_visible_clients(request), pk=client_pk)


def _my_grants(request):
    """The member's own grants: the portal never reaches anyone else's, admins included."""
    return AccessToken.objects.oauth_grants(organization_id=request.organization.pk, user_id=request.user.pk)


def _list_context(request, form):
    paginator = Paginator(_visible_clients(request), CLIENTS_PER_PAGE)
    return {"page": paginator.get_page(request.GET.get("page")), "form": form}


def _detail_context(request, application, form=None, **extra):
    return {
        "application": application,
        "form": form or OAuthClientForm(membership=request.membership, application=application),
        "token_count": AccessToken.objects.oauth_grants(organization_id=application.organization_id)
        .filter(application=application).count(),
        "authorize_url": request.build_absolute_uri("/o/authorize/"),
        "token_url": request.build_absolute_uri("/o/token/"),
        **extra,
    }


def _render_secret(request, issued, **extra):
    """The one moment a secret is on a page: straight from the service, recorded as shown, never cached."""
    if issued.secret is not None:
        extra["secret"] = audit.reveal(issued, by=request.user, ip=client_ip(request))
    response = render(request, "tokens/oauth/client_detail.html", _detail_context(request, issued.credential, **extra))
    response["Cache-Control"] = "no-store"
    return response


# --- the developer's OAuth clients --------------------------------------------------


@developer_required
@require_GET
def client_list(request):
    """Developer › OAuth clients: the register form and the list (admins: every client of the org)."""
    form = OAuthClientForm(membership=request.membership)
    return render(request, "tokens/oauth/clients.html", _list_context(request, form))


@never_cache
@developer_required
@require_POST
def client_create(request):
    form = OAuthClientForm(request.POST, membership=request.membership)
    if form.is_valid():
        data = form.cleaned_data
        try:
            issued = services.create_client(
                membership=request.membership, name=data["name"], redirect_uris=data["redirect_uris"],
                client_type=data["client_type"], allow_introspection=data.get("allow_introspection", False),
                allowed_origins=data["allowed_origins"], ip=client_ip(request),
            )
        except Refused as exc:
            form.add_service_error(exc)
        else:
            return _render_secret(request, issued, created=True)
    return render(request, "tokens/oauth/clients.html", _list_context(request, form), status=400)


@developer_required
@require_GET
def client_detail(request, client_pk):
    application = _get_client(request, client_pk)
    return render(request, "tokens/oauth/client_detail.html", _detail_context(request, application))


@developer_required
@require_POST
def client_update(request, client_pk):
    application = _get_client(request, client_pk)
    form = OAuthClientForm(request.POST, membership=request.membership, application=application)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_client(
                application=application, by=request.user, membership=request.membership, name=data["name"],
                redirect_uris=data["redirect_uris"], allow_introspection=data.get("allow_introspection"),
                allowed_origins=data["allowed_origins"], ip=client_ip(request),
            )
        except Refused as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, "Client saved.")
            return redirect("oauth_client_detail", org_id=request.organization.public_id, client_pk=application.pk)
    application.refresh_from_db()
    return render(request, "tokens/oauth/client_detail.html", _detail_context(request, application, form=form),
                  status=400)


@never_cache
@developer_required
@require_POST
def client_regenerate_secret(request, client_pk):
    application = _get_client(request, client_pk)
    try:
        issued = services.regenerate_secret(application=application, by=request.user, ip=client_ip(request))
    except Refused as exc:
        context = _detail_context(request, application, error=exc.message)
        return render(request, "tokens/oauth/client_detail.html", context, status=400)
    return _render_secret(request, issued, regenerated=True)


@developer_required
@require_http_methods(["GET", "POST"])
def client_delete(request, client_pk):
    """GET asks for confirmation; POST deletes the client and every token issued to it."""
    application = _get_client(request, client_pk)
    if request.method == "GET":
        return render(request, "tokens/oauth/client_delete.html", _detail_context(request, application))
    name = application.name
    services.delete_client(application=application, by=request.user, ip=client_ip(request))
    messages.success(request, f"Client “{name}” deleted. Every token issued to it stopped working.")
    return redirect("oauth_clients", org_id=request.organization.public_id)


# --- the member's grants to clients ----------------------------------------------------


@member_required
@require_GET
def grant_list(request):
    """Apps you authorized in this organization: every member sees (and revokes) their own."""
    page = Paginator(_my_grants(request), GRANTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "tokens/oauth/grants.html", {"page": page})


@member_required
@require_POST
def grant_revoke(request, token_pk):
    token = get_object_or_404(_my_grants(request).select_related("organization"), pk=token_pk)
    services.revoke_grant(token=token, by=request.user, ip=client_ip(request))
    if request.htmx:
        return render(request, "tokens/oauth/partials/grant_revoked.html", {"token": token})
    messages.success(request, f"Access for “{token.application.name}” revoked.")
    return redirect("oauth_grants", org_id=request.organization.public_id)
