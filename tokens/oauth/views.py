"""Portal pages: the developer's OAuth clients, and the apps a member authorized.

The client pages follow `tokens.pages`' flow (register → result page → detail → edit →
regenerate the secret, confirmed → delete); what is a client's own is below: its form
(redirect URIs, origins), its services, a public client having no secret to show, the
issuer's endpoints on its page. The grants are this kind's alone: every member sees and
revokes their own.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import member_required
from accounts.http import client_ip, render_page_or_fragment, wants_fragment

from .. import pages
from ..models import AccessToken, Application
from ..usage.views import usage_context
from . import services
from .endpoints import issuer_origin
from .forms import OAuthClientForm

GRANTS_PER_PAGE = 50


def _my_grants(request):
    """The member's own grants: the portal never reaches anyone else's, admins included."""
    return AccessToken.objects.oauth_grants(
        organization_id=request.organization.pk, user_id=request.user.pk
    )


class ClientPages(pages.CredentialPages):
    model = Application
    name = "oauth_client"
    url_names = {
        "rename": "oauth_client_update",
        "rotate_confirm": "oauth_client_regenerate_confirm",
        "rotate": "oauth_client_regenerate_secret",
    }
    routes = {
        "create": "new/",
        "secret": "<int:{id}>/secret/",
        "rename": "<int:{id}>/edit/",
        # Its own URL, not a GET of the POST's: a browser drops its cached copy of a URL once
        # it POSTs to it, and back must bring this form back with its submission id.
        "rotate_confirm": "<int:{id}>/regenerate-secret/confirm/",
        "rotate": "<int:{id}>/regenerate-secret/",
        "delete": "<int:{id}>/delete/",
    }
    id_kwarg = "client_pk"
    object_name = "application"
    label = "OAuth clients"
    rotate_verb = "Regenerate"
    back_to_detail = ("rotate_confirm", "delete_confirm")
    create_form_name = "create_form"
    rename_form_name = "form"
    rotate_service = staticmethod(services.regenerate_secret)
    revoke_service = staticmethod(services.delete_client)

    def create_form(self, request, data=None):
        return OAuthClientForm(data, membership=request.membership)

    def create(self, request, form):
        data = form.cleaned_data
        return services.create_client(
            membership=request.membership,
            name=data["name"],
            redirect_uris=data["redirect_uris"],
            client_type=data["client_type"],
            allow_introspection=data.get("allow_introspection", False),
            allowed_origins=data["allowed_origins"],
            ip=client_ip(request),
        )

    def created_without_secret_message(self, application):
        return f"Client “{application.name}” registered."

    def detail_context(self, request, application, form=None, **extra):
        grants = AccessToken.objects.oauth_grants(organization_id=application.organization_id)
        return {
            "application": application,
            "form": form or OAuthClientForm(membership=request.membership, application=application),
            "token_count": grants.filter(application=application).count(),
            # The issuer's endpoints, as discovery names them.
            "authorize_url": issuer_origin() + reverse("oauth2_provider:authorize"),
            "token_url": issuer_origin() + reverse("oauth2_provider:token"),
            **extra,
        }

    def usage(self, request, application):
        return usage_context(request, "oauth_client", application)

    def secret_context(self, request, application, secret, note):
        return {
            "created": note.get("how") == "created",
            "regenerated": note.get("how") == "regenerated",
        }

    def created_fragment(self, request, application, extra):
        # The client's own fragment (and secret) on top of the register form, at its URL.
        response = super().created_fragment(
            request, application, self.detail_context(request, application, **extra)
        )
        response["HX-Replace-Url"] = self.url(request, "detail", application)
        return response

    def rename_form(self, request, application, data=None):
        return OAuthClientForm(data, membership=request.membership, application=application)

    def rename(self, request, application, form):
        data = form.cleaned_data
        services.update_client(
            application=application,
            by=request.user,
            membership=request.membership,
            name=data["name"],
            redirect_uris=data["redirect_uris"],
            allow_introspection=data.get("allow_introspection"),
            allowed_origins=data["allowed_origins"],
            ip=client_ip(request),
        )

    def renamed(self, request, application):
        if not wants_fragment(request):  # in place, the fragment says "Client saved."
            messages.success(request, "Client saved.")
        return {"saved": True}

    def rotated_note(self, application, issued):
        return {"how": "regenerated"}

    def rotate_refused(self, form, exc):
        return {"error": exc.message}

    def delete_context(self, request, application):
        return self.detail_context(request, application)

    def deleted_message(self, application):
        return f"Client “{application.name}” deleted. Every token issued to it stopped working."

    def deleted_context(self, application):
        return {"name": application.name}


client_pages = ClientPages()


# --- the member's grants to clients ----------------------------------------------------


@member_required
@require_GET
def grant_list(request):
    """Apps you authorized in this organization: every member sees (and revokes) their own."""
    page = Paginator(_my_grants(request), GRANTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "tokens/oauth/grants.html", {"page": page})


@member_required
@require_http_methods(["GET", "POST"])
def grant_revoke(request, token_pk):
    """GET asks, naming the consequence; the POST revokes the app's access at once."""
    token = get_object_or_404(_my_grants(request).select_related("organization"), pk=token_pk)
    if request.method == "GET":
        return render_page_or_fragment(
            request,
            "tokens/oauth/grant_revoke.html",
            "tokens/oauth/partials/grant_revoke_confirm.html",
            {"token": token},
        )
    services.revoke_grant(token=token, by=request.user, ip=client_ip(request))
    if request.htmx:
        return render(request, "tokens/oauth/partials/grant_revoked.html", {"token": token})
    messages.success(request, f"Access for “{token.application.name}” revoked.")
    return redirect("oauth_grants", org_id=request.organization.public_id)
